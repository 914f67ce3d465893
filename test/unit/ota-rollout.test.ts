import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createPrivateKey } from 'node:crypto';

import fc from 'fast-check';

import { generateSigningKey } from '../../lib/ota/keys';
import { signImage } from '../../lib/ota/manifest';
import { parsePlan, type RolloutPlan } from '../../lib/ota/plan';
import { Rollout, jobIdOf, type HealthView, type RolloutEffect, type RolloutInput, type RolloutTarget, type StepOutput } from '../../lib/ota/rollout';
import { updateCommand } from '../../lib/ota/command';
import { Journal } from '../../lib/store/journal';

const KEY = generateSigningKey();
const MANIFEST = signImage(Buffer.alloc(2048, 3), createPrivateKey(KEY.privatePem), { version: '1.3.0', kind: 'env-sensor' });
const T0 = Date.UTC(2026, 11, 2, 9);

const plan = (x: unknown): RolloutPlan => {
  const r = parsePlan(x);
  if (!r.ok) throw new Error(`${r.field} ${r.reason}`);
  return r.value;
};
const fleet = (n: number, kind = 'env-sensor'): RolloutTarget[] => Array.from({ length: n }, (_, i) => ({ id: `env-${String(i).padStart(3, '0')}`, kind, version: '1.2.0' }));

type Command = Extract<RolloutEffect, { type: 'command' }>;

/** Drives a rollout the way the node will: journal (here a Map) the changes, then collect the effects. */
class Driver {
  readonly kv = new Map<string, unknown>();
  readonly commands: Command[] = [];
  readonly effects: RolloutEffect[] = [];
  rollout: Rollout;
  now = T0;
  health = new Map<string, HealthView>();

  constructor(p: RolloutPlan, targets: RolloutTarget[], id = 'r7') {
    const { rollout, output } = Rollout.create({ id, manifest: MANIFEST, imageName: 'env-1.3.0', plan: p, targets, at: this.now });
    this.rollout = rollout;
    this.take(output);
  }

  take(out: StepOutput): StepOutput {
    for (const [k, v] of out.changes) if (v === undefined) this.kv.delete(k); else this.kv.set(k, JSON.parse(JSON.stringify(v)));
    for (const e of out.effects) { this.effects.push(e); if (e.type === 'command') this.commands.push(e); }
    return out;
  }

  send(input: RolloutInput): StepOutput { return this.take(this.rollout.handle(input)); }
  tick(ms = 0): StepOutput { this.now += ms; return this.send({ type: 'tick', at: this.now, health: (d) => this.health.get(d) }); }
  report(device: string, state: 'QUEUED' | 'DOWNLOADING' | 'UPDATED' | 'FAILED' | 'ROLLED_BACK' | 'REJECTED', extra: { version?: string; attempt?: number } = {}): StepOutput {
    const attempt = extra.attempt ?? this.rollout.device(device)?.attempt ?? 1;
    return this.send({ type: 'progress', device, at: this.now, progress: { job_id: jobIdOf('r7', attempt), state, ...(extra.version ? { firmware_version: extra.version } : {}) } });
  }
  /** Every in-flight device reports UPDATED on the new version. */
  updateAllSent(): void {
    for (const d of this.rollout.snapshot().devices) if (d.phase === 'SENT') this.report(d.id, 'UPDATED', { version: '1.3.0' });
  }
}

describe('ota rollout state machine', () => {
  it('rolls out in waves, at most `concurrency` at a time, each device once, gated on the health window', () => {
    const drv = new Driver(plan({ healthGate: { windowSeconds: 60 } }), fleet(20));
    assert.deepEqual(drv.rollout.summary().waves.map((w) => w.size), [2, 8, 10]);
    let maxInFlight = 0;
    const waveOf: number[] = [];
    for (let i = 0; i < 200 && drv.rollout.status === 'running'; i++) {
      const s = drv.rollout.summary();
      maxInFlight = Math.max(maxInFlight, s.totals.inFlight);
      waveOf.push(s.wave);
      drv.updateAllSent();
      drv.tick(10_000);
    }
    assert.equal(drv.rollout.status, 'completed');
    assert.ok(maxInFlight <= 5);
    assert.deepEqual([...new Set(waveOf)], [0, 1, 2], 'waves in order');
    assert.equal(drv.rollout.summary().totals.succeeded, 20);
    assert.equal(drv.commands.length, 20);
    assert.equal(new Set(drv.commands.map((c) => c.device)).size, 20);
  });

  it('does not count a device before its health window has passed', () => {
    const drv = new Driver(plan({ healthGate: { windowSeconds: 600 } }), fleet(10));
    drv.updateAllSent();
    drv.tick(599_000);
    assert.equal(drv.rollout.summary().totals.gating, 1);
    assert.equal(drv.rollout.summary().wave, 0);
    drv.tick(1000);
    assert.equal(drv.rollout.summary().totals.succeeded, 1);
    assert.equal(drv.rollout.summary().wave, 1);
  });

  it('times out devices that never answer, retries them up to the limit, then counts them failed', () => {
    const drv = new Driver(plan({ waves: [100], deviceTimeoutSeconds: 30, retries: 3, healthGate: { windowSeconds: 0 } }), fleet(1));
    for (let i = 0; i < 10; i++) drv.tick(30_000);
    assert.deepEqual(drv.commands.map((c) => c.attempt), [1, 2, 3, 4]);
    assert.deepEqual(drv.commands.map((c) => c.jobId), ['r7-a1', 'r7-a2', 'r7-a3', 'r7-a4']);
    const d = drv.rollout.device('env-000');
    assert.equal(d?.phase, 'TIMED_OUT');
    assert.equal(drv.rollout.status, 'completed');
    assert.equal(drv.effects.filter((e) => e.type === 'alert' && e.alert.name === 'OtaDeviceFailed').length, 1);
  });

  it('retries a reported failure, ignores a late report of an earlier attempt, never retries a REJECTED', () => {
    const drv = new Driver(plan({ waves: [100], retries: { failed: 1 }, healthGate: { windowSeconds: 0 } }), fleet(2));
    drv.report('env-000', 'FAILED');
    assert.equal(drv.rollout.device('env-000')?.attempt, 2);
    drv.report('env-000', 'FAILED', { attempt: 1 });
    assert.equal(drv.rollout.device('env-000')?.phase, 'SENT', 'a late report of attempt 1 changes nothing');
    drv.report('env-001', 'REJECTED');
    assert.equal(drv.rollout.device('env-001')?.phase, 'REJECTED');
    assert.equal(drv.commands.filter((c) => c.device === 'env-001').length, 1);
    drv.report('env-000', 'FAILED');
    assert.equal(drv.rollout.device('env-000')?.phase, 'FAILED');
    drv.tick(0); // waves are judged on the tick, where fleet-health's view comes in
    assert.equal(drv.rollout.status, 'completed');
  });

  it('counts an UPDATED on the wrong version, a silent rollback and a health-gate failure as failed', () => {
    const drv = new Driver(plan({ waves: [100], concurrency: 10, retries: 0, healthGate: { windowSeconds: 300 } }), fleet(3));
    drv.report('env-000', 'UPDATED', { version: '1.2.0' });
    assert.equal(drv.rollout.device('env-000')?.phase, 'FAILED');
    drv.report('env-001', 'UPDATED', { version: '1.3.0' });
    drv.send({ type: 'version', device: 'env-001', version: '1.2.0', at: drv.now });
    assert.equal(drv.rollout.device('env-001')?.phase, 'FAILED');
    assert.match(drv.rollout.device('env-001')?.reason ?? '', /silent rollback/);
    assert.ok(drv.effects.some((e) => e.type === 'alert' && e.alert.name === 'OtaSilentRollback' && e.alert.device === 'env-001'));
    drv.report('env-002', 'UPDATED', { version: '1.3.0' });
    drv.send({ type: 'health', device: 'env-002', state: 'critical', at: drv.now });
    assert.match(drv.rollout.device('env-002')?.reason ?? '', /health gate: critical/);
  });

  it('holds a wave while its updated devices score worse than the not-yet-updated ones by more than the margin', () => {
    const drv = new Driver(plan({ waves: [50, 100], concurrency: 10, healthGate: { windowSeconds: 0, margin: 10 } }), fleet(10));
    for (const t of fleet(10)) drv.health.set(t.id, { state: 'healthy', score: 95 });
    const first = drv.commands.map((c) => c.device);
    for (const d of first) drv.health.set(d, { state: 'degraded', score: 70 });
    drv.updateAllSent();
    drv.tick(1000);
    const s = drv.rollout.summary();
    assert.equal(s.waveState, 'held');
    assert.match(s.note ?? '', /env-sensor: updated devices score 70\.0.*95\.0/);
    assert.equal(drv.commands.length, 5, 'no command for the next wave');
    for (const d of first) drv.health.set(d, { state: 'healthy', score: 88 });
    drv.tick(1000);
    assert.equal(drv.rollout.summary().wave, 1);
    assert.equal(drv.commands.length, 10);
  });

  it('waits the soak time between waves', () => {
    const drv = new Driver(plan({ waves: [50, 100], concurrency: 10, soakSeconds: 120, healthGate: { windowSeconds: 0 } }), fleet(4));
    drv.updateAllSent();
    drv.tick(0);
    assert.equal(drv.rollout.summary().waveState, 'soaking');
    drv.tick(119_000);
    assert.equal(drv.commands.length, 2);
    drv.tick(1000);
    assert.equal(drv.commands.length, 4);
  });

  it('aborts on AWS-style criteria: cancels devices in flight, alerts, and then does nothing more', () => {
    const drv = new Driver(plan({ waves: [100], concurrency: 4, retries: 0, abort: [{ failureType: 'FAILED', thresholdPercentage: 40, minNumberOfExecutedThings: 4 }] }), fleet(8));
    drv.report(drv.commands[0].device, 'FAILED');
    assert.equal(drv.rollout.status, 'running', '1 of 4');
    const inFlight = drv.rollout.snapshot().devices.filter((d) => d.phase === 'SENT').map((d) => d.id);
    drv.report(inFlight[0], 'FAILED');
    assert.equal(drv.rollout.status, 'aborted');
    assert.match(drv.rollout.summary().note ?? '', /2 of 5 executed devices FAILED, at or over 40 %/);
    const cancels = drv.effects.filter((e) => e.type === 'cancel').map((e) => (e as { device: string }).device).sort();
    assert.deepEqual(cancels, drv.rollout.snapshot().devices.filter((d) => d.phase === 'CANCELED').map((d) => d.id).sort());
    assert.ok(cancels.length >= 2);
    assert.ok(drv.effects.some((e) => e.type === 'alert' && e.alert.name === 'OtaRolloutAborted' && e.alert.severity === 'critical'));
    const before = drv.effects.length;
    drv.send({ type: 'resume', at: drv.now });
    drv.tick(3_600_000);
    assert.equal(drv.effects.length, before);
    assert.equal(drv.rollout.status, 'aborted');
  });

  it('pauses at hawkBit\'s group error threshold; resuming accepts that wave and goes on', () => {
    const drv = new Driver(plan({ waves: [50, 100], concurrency: 10, retries: 0, groupErrorThreshold: 40, healthGate: { windowSeconds: 0 } }), fleet(4));
    const [a, b] = drv.commands.map((c) => c.device);
    drv.report(a, 'FAILED');
    drv.report(b, 'UPDATED', { version: '1.3.0' });
    drv.tick(0);
    assert.equal(drv.rollout.status, 'paused');
    assert.match(drv.rollout.summary().note ?? '', /1 of 2 devices failed/);
    drv.send({ type: 'resume', at: drv.now });
    drv.tick(0);
    assert.equal(drv.rollout.status, 'running');
    assert.equal(drv.rollout.summary().wave, 1);
    assert.equal(drv.commands.length, 4);
  });

  it('sends nothing new while paused, and keeps counting what is in flight', () => {
    const drv = new Driver(plan({ waves: [100], concurrency: 1, healthGate: { windowSeconds: 0 } }), fleet(3));
    drv.send({ type: 'pause', at: drv.now });
    drv.updateAllSent();
    drv.tick(1000);
    assert.equal(drv.commands.length, 1);
    assert.equal(drv.rollout.summary().totals.succeeded, 1);
    drv.send({ type: 'resume', at: drv.now });
    assert.equal(drv.commands.length, 2);
  });

  it('honours maximumPerMinute', () => {
    const drv = new Driver(plan({ waves: [100], concurrency: 100, maximumPerMinute: 3, healthGate: { windowSeconds: 0 } }), fleet(10));
    assert.equal(drv.commands.length, 3);
    drv.tick(59_000);
    assert.equal(drv.commands.length, 3);
    drv.tick(1000);
    assert.equal(drv.commands.length, 6);
  });

  it('refuses targets of another kind or already on the version before planning', () => {
    const targets: RolloutTarget[] = [...fleet(3), { id: 'csi-1', kind: 'csi-sensor', version: '1.0.0' }, { id: 'env-new', kind: 'env-sensor', version: '1.3.0' }];
    const drv = new Driver(plan({ waves: [100], concurrency: 10 }), targets);
    assert.equal(drv.rollout.summary().refused, 2);
    assert.match(drv.rollout.device('csi-1')?.reason ?? '', /kind mismatch/);
    assert.match(drv.rollout.device('env-new')?.reason ?? '', /not newer/);
    assert.deepEqual(drv.commands.map((c) => c.device).sort(), ['env-000', 'env-001', 'env-002']);
  });

  it('builds the ota/update command with the download token in the URL', () => {
    const drv = new Driver(plan({ waves: [100] }), fleet(1));
    const cmd = updateCommand(drv.commands[0], 'http://127.0.0.1:1880/fleet/ota/firmware/', 'a-secret-of-enough-bytes', T0 + 3_600_000);
    assert.equal(cmd.topic, 'ota/update/env-000');
    assert.equal(cmd.payload.job_id, 'r7-a1');
    assert.equal(cmd.payload.sha256, MANIFEST.sha256);
    assert.match(cmd.payload.url, /^http:\/\/127\.0\.0\.1:1880\/fleet\/ota\/firmware\/env-1\.3\.0\?device=env-000&token=v1\./);
  });
});

describe('ota rollout journal: replay restores the machine exactly, nothing is sent twice', () => {
  const targets = fleet(12);
  const basePlan = plan({ waves: [25, 100], concurrency: 3, deviceTimeoutSeconds: 20, retries: { failed: 1, timedOut: 2 }, soakSeconds: 5, healthGate: { windowSeconds: 10, margin: 15 }, abort: [{ failureType: 'ALL', thresholdPercentage: 60, minNumberOfExecutedThings: 6 }], groupErrorThreshold: { percentage: 90, action: 'pause' } });

  type Action =
    | { t: 'tick'; ms: number } | { t: 'report'; dev: number; state: 'QUEUED' | 'DOWNLOADING' | 'UPDATED' | 'FAILED' | 'ROLLED_BACK' | 'REJECTED'; stale: boolean; old: boolean }
    | { t: 'version'; dev: number; old: boolean } | { t: 'health'; dev: number; bad: boolean } | { t: 'op'; op: 'pause' | 'resume' | 'abort' } | { t: 'score'; dev: number; score: number };

  const action: fc.Arbitrary<Action> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ t: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 15_000 }) }) },
    { weight: 6, arbitrary: fc.record({ t: fc.constant('report' as const), dev: fc.nat(11), state: fc.constantFrom('QUEUED' as const, 'DOWNLOADING' as const, 'UPDATED' as const, 'UPDATED' as const, 'FAILED' as const, 'ROLLED_BACK' as const, 'REJECTED' as const), stale: fc.boolean(), old: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('version' as const), dev: fc.nat(11), old: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('health' as const), dev: fc.nat(11), bad: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('score' as const), dev: fc.nat(11), score: fc.integer({ min: 0, max: 100 }) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('op' as const), op: fc.constantFrom('pause' as const, 'resume' as const, 'resume' as const, 'abort' as const) }) },
  );

  /** Turns an action into an input for the machine as it is now (reports name its current attempt). */
  function input(r: Rollout, a: Action, clock: { now: number }, scores: Map<string, HealthView>): RolloutInput {
    const dev = (i: number) => targets[i].id;
    switch (a.t) {
      case 'tick': clock.now += a.ms; return { type: 'tick', at: clock.now, health: (d) => scores.get(d) };
      case 'report': {
        const attempt = Math.max(1, (r.device(dev(a.dev))?.attempt ?? 1) - (a.stale ? 1 : 0));
        return { type: 'progress', device: dev(a.dev), at: clock.now, progress: { job_id: jobIdOf('r7', attempt), state: a.state, ...(a.state === 'UPDATED' ? { firmware_version: a.old ? '1.2.0' : '1.3.0' } : {}) } };
      }
      case 'version': return { type: 'version', device: dev(a.dev), version: a.old ? '1.2.0' : '1.3.0', at: clock.now };
      case 'health': return { type: 'health', device: dev(a.dev), state: a.bad ? 'critical' : 'healthy', at: clock.now };
      case 'score': scores.set(dev(a.dev), { state: 'healthy', score: a.score }); return { type: 'tick', at: clock.now, health: (d) => scores.get(d) };
      case 'op': return { type: a.op, at: clock.now };
    }
  }

  const apply = (kv: Map<string, unknown>, out: StepOutput): void => {
    for (const [k, v] of out.changes) if (v === undefined) kv.delete(k); else kv.set(k, JSON.parse(JSON.stringify(v)));
  };

  it('replaying the journal at any cut point gives the same state as the live machine had there', () => {
    fc.assert(fc.property(fc.array(action, { minLength: 1, maxLength: 120 }), (actions) => {
      const { rollout, output } = Rollout.create({ id: 'r7', manifest: MANIFEST, imageName: 'env-1.3.0', plan: basePlan, targets, at: T0 });
      const kv = new Map<string, unknown>();
      apply(kv, output);
      const clock = { now: T0 };
      const scores = new Map<string, HealthView>();
      for (const a of actions) {
        apply(kv, rollout.handle(input(rollout, a, clock, scores)));
        const restored = Rollout.restore(kv.entries(), 'r7');
        assert.ok(restored.ok, restored.ok ? '' : restored.reason);
        assert.deepEqual(restored.rollout.snapshot(), rollout.snapshot());
        assert.deepEqual(restored.rollout.summary(), rollout.summary());
      }
    }), { numRuns: 150, seed: 20261202 });
  });

  it('a crash at any point (effects of the last step lost) then restart never sends one attempt twice, and skips no device', () => {
    fc.assert(fc.property(fc.array(action, { minLength: 1, maxLength: 150 }), fc.array(fc.nat(149), { maxLength: 4 }), (actions, crashes) => {
      const created = Rollout.create({ id: 'r7', manifest: MANIFEST, imageName: 'env-1.3.0', plan: basePlan, targets, at: T0 });
      let rollout = created.rollout;
      const output = created.output;
      const kv = new Map<string, unknown>();
      apply(kv, output);
      const sent: string[] = output.effects.filter((e) => e.type === 'command').map((e) => `${(e as Command).device}#${(e as Command).attempt}`);
      const clock = { now: T0 };
      const scores = new Map<string, HealthView>();
      const crashAt = new Set(crashes);
      actions.forEach((a, i) => {
        const out = rollout.handle(input(rollout, a, clock, scores));
        apply(kv, out); // durable first
        if (crashAt.has(i)) {
          // SIGKILL after the commit, before the effects went out: they are lost; restart from the journal.
          const r = Rollout.restore(kv.entries(), 'r7');
          assert.ok(r.ok);
          rollout = r.rollout;
          return;
        }
        for (const e of out.effects) if (e.type === 'command') sent.push(`${e.device}#${e.attempt}`);
      });
      assert.equal(new Set(sent).size, sent.length, `a command went twice: ${sent.join(' ')}`);
      // Let time run with silent devices: every device ends final or the rollout stops (nothing is left hanging).
      for (let i = 0; i < 400 && !rollout.finished; i++) {
        rollout.handle({ type: 'resume', at: clock.now });
        clock.now += 30_000;
        apply(kv, rollout.handle({ type: 'tick', at: clock.now }));
      }
      if (rollout.status === 'completed') {
        for (const d of rollout.snapshot().devices) assert.ok(['SUCCEEDED', 'FAILED', 'ROLLED_BACK', 'REJECTED', 'TIMED_OUT'].includes(d.phase), `${d.id} left ${d.phase}`);
      } else assert.equal(rollout.status, 'aborted');
    }), { numRuns: 150, seed: 7 });
  });

  it('an attempt lost in a restart does not use up a retry', () => {
    const p = plan({ waves: [100], concurrency: 1, deviceTimeoutSeconds: 10, retries: 0, healthGate: { windowSeconds: 0 } });
    const { rollout, output } = Rollout.create({ id: 'r7', manifest: MANIFEST, imageName: 'env-1.3.0', plan: p, targets: fleet(1), at: T0 });
    const kv = new Map<string, unknown>();
    apply(kv, output); // the command of attempt 1 is committed, then the process dies before sending it
    assert.equal(rollout.device('env-000')?.attempt, 1);
    const r = Rollout.restore(kv.entries(), 'r7');
    assert.ok(r.ok);
    const out = r.rollout.handle({ type: 'tick', at: T0 + 10_000 });
    assert.deepEqual(out.effects.filter((e) => e.type === 'command').map((e) => (e as Command).attempt), [2]);
    assert.equal(r.rollout.device('env-000')?.timedOutRetries, 0);
  });

  it('survives a real journal file: commit per step, reopen, restore; a finished rollout never starts again', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ota-journal-'));
    try {
      const file = path.join(dir, 'ota.journal');
      let j = Journal.open(file);
      const { rollout, output } = Rollout.create({ id: 'r7', manifest: MANIFEST, imageName: 'env-1.3.0', plan: plan({ waves: [100], concurrency: 2, healthGate: { windowSeconds: 0 } }), targets: fleet(3), at: T0 });
      j.commit(output.changes);
      for (const c of output.effects.filter((e) => e.type === 'command') as Command[]) j.commit(rollout.handle({ type: 'progress', device: c.device, at: T0 + 1, progress: { job_id: c.jobId, state: 'UPDATED', firmware_version: '1.3.0' } }).changes);
      j.close();
      j = Journal.open(file);
      const r = Rollout.restore(j.entries(), 'r7');
      assert.ok(r.ok);
      assert.deepEqual(r.rollout.snapshot(), rollout.snapshot());
      const last = r.rollout.snapshot().devices.find((d) => d.phase === 'SENT');
      assert.ok(last);
      j.commit(r.rollout.handle({ type: 'progress', device: last.id, at: T0 + 2, progress: { job_id: jobIdOf('r7', 1), state: 'UPDATED' } }).changes);
      j.commit(r.rollout.handle({ type: 'tick', at: T0 + 3 }).changes);
      assert.equal(r.rollout.status, 'completed');
      j.close();
      j = Journal.open(file);
      const again = Rollout.restore(j.entries(), 'r7');
      assert.ok(again.ok);
      assert.equal(again.rollout.status, 'completed');
      const out = again.rollout.handle({ type: 'tick', at: T0 + 10_000_000 });
      assert.deepEqual([out.changes.length, out.effects.length], [0, 0]);
      j.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a damaged journal record with the reason instead of failing later', () => {
    const { output } = Rollout.create({ id: 'r7', manifest: MANIFEST, imageName: 'env-1.3.0', plan: plan({}), targets: fleet(2), at: T0 });
    const kv = new Map<string, unknown>(output.changes as Array<[string, unknown]>);
    kv.set('ota:r7:d:env-000', { id: 'env-000', phase: 'EXPLODED' });
    const r = Rollout.restore(kv.entries(), 'r7');
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /env-000/);
    assert.equal(Rollout.restore([], 'nope').ok, false);
  });
});
