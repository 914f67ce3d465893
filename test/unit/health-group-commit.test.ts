/**
 * fleet-health's group commit and its overload behaviour (issue 16, lib/health/controller.ts,
 * lib/health/overload.ts, lib/health/input-queue.ts):
 * - the inputs of one event-loop turn are committed with one fdatasync, and nothing is sent before it;
 * - under overload a reading still waiting is replaced by the newer one of the same device and kind,
 *   every other message is scored, in order; the counts and the lag are in the fleet summary;
 * - PipelineOverloaded fires after the lag stayed over its threshold, resolves after it stayed under
 *   half of it, and keeps its identity across a restart (journaled before it is sent);
 * - the sweep judges silence only up to the oldest input still queued.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import fc from 'fast-check';

import type { FleetAlert } from '../../lib/alert-shape';
import { defaultHealthConfig } from '../../lib/health/config';
import { FLUSH_MAX, FLUSH_MIN, HealthController, nextFlushSize, type HealthInputMessage, type HealthOutputs } from '../../lib/health/controller';
import { DurableHealth } from '../../lib/health/durable';
import { COALESCED_KINDS, coalesceKey, type PipelineReport } from '../../lib/health/overload';
import type { HealthInput } from '../../lib/health/tracker';
import { Journal } from '../../lib/store/journal';
import { MESSAGE_KINDS } from '../../firmware/contract/topics';

const T0 = 1_800_000_000_000;
const config = defaultHealthConfig();
const hb = (id: string, heap = 40_000): HealthInputMessage => ({ kind: 'heartbeat', device: { id, kind: 'env-sensor' }, payload: { uptime: 10, free_heap: heap } });
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('fleet-health group commit (one fdatasync per event-loop turn)', () => {
  let dir = '';
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'health-group-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('N state changes arriving in one turn: one sync, and every send after it, with its device on disk', async () => {
    const file = path.join(dir, 'fleet-health-g.jsonl');
    const journal = Journal.open(file);
    // No time budget here: what is shown is one commit for what one flush takes (the budget is the next test's).
    const c = new HealthController(config, null, 1000, undefined, { flushBudgetMs: Infinity });
    c.attach(journal);
    const syncsBefore = journal.stats.syncs;
    const sent: Array<{ device: string; syncs: number; onDisk: boolean }> = [];
    const completed: string[] = [];
    const n = 50;
    const all: Array<Promise<void>> = [];
    for (let i = 0; i < n; i++) {
      const id = `dev-${i}`;
      all.push(c.enqueue(hb(id), T0 + i, (out) => {
        sent.push({ device: id, syncs: journal.stats.syncs, onDisk: fs.readFileSync(file, 'utf8').includes(`"k":"d:${id}"`) });
        assert.equal(out[0]?.[0]?.topic, `health/${id}`);
      }).then(() => { completed.push(id); }));
    }
    assert.equal(sent.length, 0, 'nothing is sent in the turn the inputs arrive');
    assert.equal(journal.stats.syncs, syncsBefore, 'nor committed');
    await Promise.all(all);
    assert.equal(journal.stats.syncs, syncsBefore + 1, 'one fdatasync for the turn');
    assert.equal(sent.length, n, 'a state change each (unknown → healthy)');
    for (const s of sent) {
      assert.equal(s.syncs, syncsBefore + 1, `${s.device} sent after the sync`);
      assert.ok(s.onDisk, `${s.device} on disk when it was sent`);
    }
    assert.deepEqual(completed, sent.map((s) => s.device), 'each input completed after its send, in order');

    // The next turn is its own commit.
    await Promise.all([c.enqueue(hb('dev-0', 4000), T0 + 100, () => undefined), c.enqueue(hb('dev-0', 4000), T0 + 101, () => undefined)]);
    assert.equal(journal.stats.syncs, syncsBefore + 2);
    c.close();
    journal.close();
  });

  it('a message it cannot score rejects with the reason; the rest of the turn is still scored and sent', async () => {
    const c = new HealthController(config, null, 1000);
    const sent: string[] = [];
    const results = await Promise.allSettled([
      c.enqueue(hb('a'), T0, (o) => sent.push(String(o[0]?.[0]?.topic))),
      c.enqueue({ payload: 'hello' }, T0, () => sent.push('bad')),
      c.enqueue({ ...hb('b'), thresholds: { factors: { heap: { warn: 'x' } } } }, T0, () => sent.push('bad thresholds')),
      c.enqueue(hb('c'), T0, (o) => sent.push(String(o[0]?.[0]?.topic))),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    assert.match(String((results[1] as PromiseRejectedResult).reason.message), /expected a message from fleet-decode/);
    assert.match(String((results[2] as PromiseRejectedResult).reason.message), /msg.thresholds factors.heap/);
    assert.deepEqual(sent, ['health/a', 'health/c']);
  });

  it('a flush stops at its time budget and goes on in the next turn; one commit per flush, its sends once synced', async () => {
    let clock = 0;
    const deferred: Array<() => void> = [];
    const file = path.join(dir, 'fleet-health-b.jsonl');
    const journal = Journal.open(file);
    // Every input costs 1 ms of the fake clock when it is sent: a budget of 8 ms takes 16 (the clock is read every 16).
    const c = new HealthController(config, null, 1000, undefined, { clock: () => clock, defer: (f) => deferred.push(f), flushBudgetMs: 8 });
    c.attach(journal);
    const before = journal.stats.commits;
    const sent: string[] = [];
    const all: Array<Promise<void>> = [];
    for (let i = 0; i < 40; i++) all.push(c.enqueue(hb(`d-${i}`), T0, (o) => { sent.push(String(o[0]?.[0]?.topic)); }));
    // Scoring is what the budget counts: advance the clock as the tracker scores.
    const observe = c.tracker.observe.bind(c.tracker);
    c.tracker.observe = (m: HealthInput, cfg) => { clock += 1; return observe(m, cfg); };
    assert.equal(deferred.length, 1, 'one flush scheduled for the turn');
    deferred.shift()!();
    assert.equal(c.pending, 24);
    assert.equal(journal.stats.commits, before + 1);
    assert.equal(sent.length, 0, 'its state changes are sent once their fdatasync (off the loop) returns');
    while (!sent.length) await turn();
    assert.equal(sent.length, 16);
    while (deferred.length) deferred.shift()!();
    assert.equal(journal.stats.commits, before + 3);
    await Promise.all(all);
    assert.deepEqual(sent, Array.from({ length: 40 }, (_, i) => `health/d-${i}`), 'every input sent once, in order');
    journal.close();
  });

  it('the timer\'s group commit of devices that only sent a reading is taken in slices; a state change commits only its own device', () => {
    let clock = 0;
    const deferred: Array<() => void> = [];
    const file = path.join(dir, 'fleet-health-w.jsonl');
    const journal = Journal.open(file);
    const c = new HealthController(config, null, 10_000, undefined, { clock: () => clock, defer: (f) => deferred.push(f), budgetMs: 8 });
    c.attach(journal);
    for (let i = 0; i < 3000; i++) c.input(hb(`w-${i}`), T0);
    // Now every device only moves its last-seen: nothing of it is needed before a send.
    for (let i = 0; i < 3000; i++) c.input(hb(`w-${i}`), T0 + 1000);
    // A state change (a new device: unknown → healthy) is committed at once, and alone.
    c.input(hb('w-new'), T0 + 2000);
    assert.ok(fs.readFileSync(file, 'utf8').includes('"k":"d:w-new"'), 'the change is on disk before its send');
    assert.ok(!fs.readFileSync(file, 'utf8').includes('"k":"s:w-1"'), 'the waiting devices are not in that commit');
    const commits = journal.stats.commits;
    // Each record costs 0.01 ms of the fake clock: a first slice of 1,000 takes 10 ms, so the next fits 8 ms.
    const commit = journal.commit.bind(journal);
    journal.commit = (changes) => { const list = [...changes]; clock += 0.01 * list.length; commit(list); };
    c.commitWaiting();
    assert.equal(journal.stats.commits, commits + 1, 'one slice now');
    assert.equal(deferred.length, 1, 'the rest on later turns');
    c.commitWaiting();
    assert.equal(journal.stats.commits, commits + 1, 'a second timer tick while slicing adds nothing');
    while (deferred.length) deferred.shift()!();
    assert.ok(journal.stats.commits >= commits + 3, `several slices (${journal.stats.commits - commits})`);
    const text = fs.readFileSync(file, 'utf8');
    for (const id of ['w-1', 'w-1500', 'w-2999']) assert.ok(text.includes(`"k":"s:${id}"`), `${id}'s last-seen on disk`);
    journal.close();
    const restored = new HealthController(config, null, 10_000);
    assert.equal(restored.attach(Journal.open(file)), 3001);
    assert.equal(restored.tracker.get('w-2999')!.obs.lastSeen, T0 + 1000);
  });

  it('sizes the next flush from the last one\'s cost, commit and sends included, ramping up at most twofold', () => {
    assert.equal(nextFlushSize(1000, 32, 16), 500, 'twice over the budget: half as many');
    assert.equal(nextFlushSize(1000, 4, 16), 2000, 'a quarter of it: at most twice as many');
    assert.equal(nextFlushSize(10, 0.1, 16), 2 * FLUSH_MIN, 'a quiet turn leaves room for a burst to ramp up from');
    assert.equal(nextFlushSize(300, 1000, 16), FLUSH_MIN);
    assert.equal(nextFlushSize(FLUSH_MAX, 1, 16), FLUSH_MAX);
  });
});

describe('fleet-health coalescing under overload', () => {
  const READINGS = [...COALESCED_KINDS];
  const OTHERS = ['presence', 'status', 'alert', 'ota-progress', 'steel-result', 'steel-status', 'console', 'health'] as const;

  it('the reading kinds are contract kinds; presence, status, alerts, OTA and Steel are never coalesced', () => {
    for (const k of READINGS) assert.ok((MESSAGE_KINDS as readonly string[]).includes(k), k);
    for (const k of MESSAGE_KINDS) {
      const never = k === 'presence' || k === 'status' || k === 'alert' || k.startsWith('ota-') || k.startsWith('steel-');
      if (never) assert.equal(coalesceKey({ kind: k, device: { id: 'x' } }), null, k);
    }
    assert.equal(coalesceKey({ kind: 'heartbeat', device: { id: 'x' }, retain: true }), null, 'a replayed retained message is not a live reading');
    assert.equal(coalesceKey({ kind: 'heartbeat', device: { id: 'x' }, thresholds: {} }), null, 'its own thresholds');
    assert.equal(coalesceKey({ kind: 'sensor', device: { id: 'x' } }), coalesceKey({ kind: 'sensor', device: { id: 'x' } }));
    assert.notEqual(coalesceKey({ kind: 'sensor', device: { id: 'x' } }), coalesceKey({ kind: 'heartbeat', device: { id: 'x' } }));
  });

  type Msg = { kind: string; dev: number; seq: number };
  const msgArb = fc.record({
    kind: fc.constantFrom(...READINGS, ...OTHERS), dev: fc.integer({ min: 0, max: 3 }), seq: fc.nat(),
  });

  /** Runs `msgs` through one flush with the lag at `lagMs`; returns what the tracker scored and what the summary said. */
  function run(msgs: Msg[], lagMs: number): { scored: Array<{ kind: string; id: string; seq: unknown }>; completed: () => number; report: PipelineReport } {
    const deferred: Array<() => void> = [];
    const c = new HealthController(config, null, 1000, undefined, { defer: (f) => deferred.push(f), now: () => T0 + 2000 });
    c.tick(T0, lagMs);
    const scored: Array<{ kind: string; id: string; seq: unknown }> = [];
    const observe = c.tracker.observe.bind(c.tracker);
    c.tracker.observe = (m: HealthInput, cfg) => { scored.push({ kind: m.kind, id: m.id, seq: m.payload.seq }); return observe(m, cfg); };
    let completed = 0;
    msgs.forEach((m, i) => {
      const payload = m.kind === 'presence' ? { state: 'online', seq: i } : { uptime: 5, free_heap: 40_000 + m.seq, seq: i };
      void c.enqueue({ kind: m.kind, device: { id: `d-${m.dev}`, kind: 'env-sensor' }, payload }, T0 + 1000 + i, () => undefined).then(() => { completed++; });
    });
    while (deferred.length) deferred.shift()!();
    const report = (c.summary(T0 + 3000).payload as { pipeline: PipelineReport }).pipeline;
    return { scored, completed: () => completed, report };
  }

  it('keeps the latest reading of each device and kind, and every other message, in order', async () => {
    await fc.assert(fc.asyncProperty(fc.array(msgArb, { maxLength: 60 }), async (msgs) => {
      const { scored, completed, report } = run(msgs, 500);
      await turn();
      // The reference: a reading is scored only when no later one of its device and kind follows.
      const want = msgs.map((m, i) => ({ kind: m.kind, id: `d-${m.dev}`, seq: i }))
        .filter((m, i) => !COALESCED_KINDS.has(m.kind) || !msgs.slice(i + 1).some((l) => l.kind === m.kind && `d-${l.dev}` === m.id));
      assert.deepEqual(scored, want);
      assert.equal(report.coalesced, msgs.length - want.length);
      const byKind: Record<string, number> = {};
      msgs.forEach((m, i) => { if (COALESCED_KINDS.has(m.kind) && !want.some((w) => w.seq === i)) byKind[m.kind] = (byKind[m.kind] ?? 0) + 1; });
      assert.deepEqual(report.coalescedByKind, byKind);
      assert.equal(completed(), msgs.length, 'every input completed, coalesced ones too');
    }), { numRuns: 200 });
  });

  it('below the lag threshold every reading is scored', async () => {
    const msgs: Msg[] = [0, 1, 2, 3, 4, 5].map((i) => ({ kind: 'heartbeat', dev: 0, seq: i }));
    const { scored, report } = run(msgs, 50);
    await turn();
    assert.equal(scored.length, 6);
    assert.equal(report.coalesced, 0);
    assert.equal(report.coalescing, false);
  });

  it('the fleet summary reports the lag, the largest since the last summary, what waits and what was coalesced', () => {
    const deferred: Array<() => void> = [];
    const c = new HealthController(config, null, 1000, undefined, { defer: (f) => deferred.push(f), now: () => T0 });
    c.tick(T0, 700);
    c.tick(T0 + 1000, 300);
    for (let i = 0; i < 5; i++) void c.enqueue(hb('a', 40_000 + i), T0 + 1000, () => undefined);
    const first = (c.summary(T0 + 1500).payload as { pipeline: PipelineReport; total: number }).pipeline;
    assert.deepEqual([first.lagMs, first.maxLagMs, first.pending, first.coalesced, first.coalescing], [300, 700, 5, 4, true]);
    assert.deepEqual(first.coalescedByKind, { heartbeat: 4 });
    deferred.shift()!();
    const second = (c.summary(T0 + 2000).payload as { pipeline: PipelineReport }).pipeline;
    assert.deepEqual([second.maxLagMs, second.pending, second.coalesced], [300, 0, 4], 'the largest lag starts over; the count does not');
    assert.equal(c.tracker.get('a')?.obs.freeHeap, 40_004, 'the latest reading was scored');
  });
});

describe('PipelineOverloaded', () => {
  let dir = '';
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'health-overload-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const overload = { coalesceMs: 200, overloadMs: 1000, overloadForMs: 3000 };
  const alertsOf = (out: HealthOutputs | null): FleetAlert[] => (out?.[1] ?? []).map((m) => m.payload as FleetAlert);

  it('fires after the lag stayed over the threshold for the configured time, resolves after it stayed under half of it', () => {
    const file = path.join(dir, 'fleet-health-o.jsonl');
    const c = new HealthController(config, null, 1000, undefined, { overload, name: 'north' });
    c.attach(Journal.open(file));
    const seen: Array<[number, FleetAlert]> = [];
    const tick = (s: number, lag: number): void => { for (const a of alertsOf(c.tick(T0 + s * 1000, lag))) seen.push([s, a]); };
    // Over, then one second under: the run starts over, nothing fires.
    [1500, 1500, 1500, 200].forEach((lag, s) => tick(s, lag));
    assert.equal(seen.length, 0);
    for (let s = 4; s <= 7; s++) tick(s, 1500);
    assert.equal(seen.length, 1, 'fired once, three seconds into the run');
    const [at, firing] = seen[0];
    assert.equal(at, 7);
    assert.deepEqual([firing.name, firing.status, firing.severity, firing.device, firing.labels.node, firing.labels.alertname], ['PipelineOverloaded', 'firing', 'major', null, 'north', 'PipelineOverloaded']);
    assert.equal(firing.startsAt, new Date(T0 + 7000).toISOString());
    assert.match(firing.summary, /1500 ms behind/);
    assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8').trim().split('\n').pop()!), { k: 'm:overload', v: { startsAt: T0 + 7000 } }, 'journaled before it was returned');
    // Between half the threshold and the threshold: still overloaded (hysteresis).
    for (let s = 8; s <= 15; s++) tick(s, 800);
    assert.equal(seen.length, 1);
    assert.equal((c.summary(T0 + 15_000).payload as { pipeline: PipelineReport }).pipeline.overloaded, true);
    for (let s = 16; s <= 19; s++) tick(s, 100);
    assert.equal(seen.length, 2);
    const [rat, resolved] = seen[1];
    assert.equal(rat, 19);
    assert.deepEqual([resolved.status, resolved.fingerprint, resolved.startsAt, resolved.endsAt], ['resolved', firing.fingerprint, firing.startsAt, new Date(T0 + 19_000).toISOString()]);
    assert.equal((c.summary(T0 + 19_000).payload as { pipeline: PipelineReport }).pipeline.overloaded, false);
    c.close();
  });

  it('a restart while it fires resolves it once the lag recovers, with the identity it fired with', () => {
    const file = path.join(dir, 'fleet-health-r.jsonl');
    const first = new HealthController(config, null, 1000, undefined, { overload, name: 'north' });
    const j1 = Journal.open(file);
    first.attach(j1);
    let firing: FleetAlert | undefined;
    for (let s = 0; s <= 3; s++) firing ??= alertsOf(first.tick(T0 + s * 1000, 5000))[0];
    assert.equal(firing?.status, 'firing');
    j1.close(); // a SIGKILL: no close(), what was committed is what is there

    const again = new HealthController(config, null, 1000, undefined, { overload, name: 'north' });
    again.attach(Journal.open(file));
    assert.equal((again.summary(T0 + 10_000).payload as { pipeline: PipelineReport }).pipeline.overloaded, true);
    const after: FleetAlert[] = [];
    for (let s = 10; s <= 14; s++) after.push(...alertsOf(again.tick(T0 + s * 1000, 0)));
    assert.deepEqual(after.map((a) => [a.status, a.fingerprint, a.startsAt]), [['resolved', firing!.fingerprint, firing!.startsAt]]);
  });

  it('overloadMs 0: no alert, whatever the lag', () => {
    const c = new HealthController(config, null, 1000, undefined, { overload: { ...overload, overloadMs: 0 } });
    for (let s = 0; s < 30; s++) assert.equal(c.tick(T0 + s * 1000, 60_000), null);
  });
});

describe('fleet-health sweep and the input queue', () => {
  it('judges silence only up to the oldest input still queued', () => {
    const deferred: Array<() => void> = [];
    const c = new HealthController(config, null, 1000, undefined, { defer: (f) => deferred.push(f) });
    c.input(hb('a'), T0);
    c.input(hb('b'), T0);
    const limit = c.tracker.get('a')!.silentAfter - T0;
    // a's next heartbeat arrived before its limit but is still queued when the sweep runs after it.
    void c.enqueue(hb('a'), T0 + limit - 100, () => undefined);
    const sweep = (): string[] => {
      const out: string[] = [];
      c.sweep(T0 + limit + 500, (o) => { for (const m of o[0] ?? []) out.push(`${(m.payload as { device: string }).device}:${(m.payload as { state: string }).state}`); }, (f) => f(), (e) => { throw e; });
      return out;
    };
    assert.deepEqual(sweep(), [], 'b is not due before the queued input either: nothing is judged past it');
    deferred.shift()!();
    const changes = sweep();
    assert.deepEqual(changes, ['b:offline'], 'a was heard from in time; b was not');
  });
});

describe('fleet-health sweep slices: committed, synced off the loop, then sent', () => {
  let dir = '';
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'health-sweep-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodeFs = require('node:fs') as typeof fs;

  it('a slice\'s state changes are on disk and synced before they are sent, and a later flush\'s sends come after them', async () => {
    const file = path.join(dir, 'fleet-health-s.jsonl');
    const journal = Journal.open(file);
    const c = new HealthController(config, null, 1000);
    c.attach(journal);
    await Promise.all([c.enqueue(hb('a'), T0, () => undefined), c.enqueue(hb('b'), T0, () => undefined)]);
    const real = nodeFs.fdatasync;
    const held: Array<() => void> = [];
    nodeFs.fdatasync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => { held.push(() => real(fd, cb)); }) as typeof nodeFs.fdatasync;
    const sent: string[] = [];
    const states = (o: HealthOutputs): string[] => (o[0] ?? []).map((m) => `${(m.payload as { device: string }).device}:${(m.payload as { state: string }).state}`);
    try {
      const limit = c.tracker.get('a')!.silentAfter - T0;
      c.sweep(T0 + limit + 1, (o) => sent.push(...states(o)), (f) => f(), (e) => { throw e; });
      assert.equal(sent.length, 0, 'nothing sent while the slice\'s sync runs');
      assert.equal(held.length, 1, 'its fdatasync runs off the loop');
      assert.match(fs.readFileSync(file, 'utf8'), /"k":"d:a","v":\{"v":1,"state":"offline"/, 'written before the sync');
      // A summary asked for meanwhile commits nothing, yet counts a and b offline: it is sent behind
      // the sweep's changes. Then a is heard from again before that sync returns: its change is
      // committed and waits for a sync of its own, behind the sweep's, so the sweep's sends go first.
      const summary = c.enqueue({ command: 'summary' }, T0 + limit + 2, (o) => { if (o[2]) sent.push('summary'); });
      await turn();
      let scored = false;
      const back = c.enqueue(hb('a'), T0 + limit + 2, (o) => sent.push(...states(o))).then(() => { scored = true; });
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(scored, false, 'a\'s return waits for its sync');
      assert.deepEqual(sent, [], 'and so do the sweep\'s changes, and the summary behind them');
      while (!scored) { held.shift()?.(); await new Promise((r) => setTimeout(r, 5)); }
      await Promise.all([summary, back]);
      assert.deepEqual(sent, ['a:offline', 'b:offline', 'summary', 'a:healthy']);
      while (held.length) held.shift()!();
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(sent, ['a:offline', 'b:offline', 'summary', 'a:healthy'], 'each sent once');
    } finally {
      nodeFs.fdatasync = real;
    }
    c.close();
    journal.close();
  });

  it('a commit whose write fails is heard after the commits still waiting for their sync, not before', async () => {
    const c = new HealthController(config, null, 1000);
    c.input(hb('a'), T0);
    c.input(hb('b'), T0);
    const durable = DurableHealth.open(path.join(dir, 'fleet-health-w.jsonl'), c.tracker, config);
    const real = { fdatasync: nodeFs.fdatasync, writeSync: nodeFs.writeSync };
    const held: Array<() => void> = [];
    nodeFs.fdatasync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => { held.push(() => real.fdatasync(fd, cb)); }) as typeof nodeFs.fdatasync;
    const heard: string[] = [];
    try {
      durable.commitThen(['a'], T0, 0, (ok) => heard.push(`a ${ok}`));
      nodeFs.writeSync = (() => { throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }); }) as typeof nodeFs.writeSync;
      durable.commitThen(['b'], T0, 0, (ok) => heard.push(`b ${ok}`));
      nodeFs.writeSync = real.writeSync;
      assert.equal(heard.length, 0, 'b waits behind a, whose sync still runs');
      held.shift()!();
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(heard, ['a true', 'b false']);
      assert.equal(durable.stats.lastError, 'ENOSPC: no space left on device, write');
    } finally {
      Object.assign(nodeFs, real);
    }
    durable.close();
  });

  it('an input flush syncs its state changes off the loop, and a later flush with nothing to commit sends behind it', async () => {
    const file = path.join(dir, 'fleet-health-f.jsonl');
    const journal = Journal.open(file);
    const c = new HealthController(config, null, 1000);
    c.attach(journal);
    await c.enqueue(hb('y'), T0, () => undefined);
    const real = { fdatasync: nodeFs.fdatasync, fdatasyncSync: nodeFs.fdatasyncSync };
    const held: Array<() => void> = [];
    let onLoop = 0;
    nodeFs.fdatasync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => { held.push(() => real.fdatasync(fd, cb)); }) as typeof nodeFs.fdatasync;
    nodeFs.fdatasyncSync = ((fd: number) => { onLoop++; real.fdatasyncSync(fd); }) as typeof nodeFs.fdatasyncSync;
    const sent: string[] = [];
    try {
      // x's first message is a state change (unknown → healthy); y's second is not, and commits nothing.
      const first = c.enqueue(hb('x'), T0 + 1, (o) => sent.push(`x ${o[0]?.length ?? 0}`)).then(() => { sent.push('x done'); });
      await turn();
      const second = c.enqueue(hb('y'), T0 + 2, (o) => sent.push(`y ${o[0]?.length ?? 0}`)).then(() => { sent.push('y done'); });
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(onLoop, 0, 'no fdatasync on the event loop');
      assert.equal(held.length, 1, 'x\'s commit is synced off the loop');
      assert.match(fs.readFileSync(file, 'utf8'), /"k":"d:x"/, 'written before its sync');
      assert.deepEqual(sent, [], 'neither is sent while that sync runs: y waits behind x');
      held.shift()!();
      await Promise.all([first, second]);
      assert.deepEqual(sent, ['x 1', 'x done', 'y done'], 'in the order they came');
    } finally {
      Object.assign(nodeFs, real);
    }
    c.close();
    journal.close();
  });

  it('without anything else to sync, the slice is sent once its own fdatasync returns', async () => {
    const journal = Journal.open(path.join(dir, 'fleet-health-s.jsonl'));
    const c = new HealthController(config, null, 1000);
    c.attach(journal);
    await c.enqueue(hb('a'), T0, () => undefined);
    const limit = c.tracker.get('a')!.silentAfter - T0;
    const sent = await new Promise<number>((resolve, reject) => c.sweep(T0 + limit + 1, (o) => resolve(o[0]?.length ?? 0), (f) => f(), reject));
    assert.equal(sent, 1);
    assert.equal(journal.syncing, false);
    c.close();
    journal.close();
  });
});
