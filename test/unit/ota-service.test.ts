/**
 * fleet-ota's domain service without Node-RED: messages in, the four outputs out, the health-margin
 * gate as the summary and the badge show it, and the dialog's commands.
 */
import * as assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { KIND } from '../../firmware/contract/topics';
import { generateSigningKey, trustedKeys } from '../../lib/ota/keys';
import { signImage } from '../../lib/ota/manifest';
import { parsePlan } from '../../lib/ota/plan';
import { ImageRepository } from '../../lib/ota/repository';
import type { RolloutSummary } from '../../lib/ota/rollout';
import { OtaService, type OtaOutputs } from '../../lib/ota/service';

const T0 = 1_800_000_000_000;

describe('ota service', () => {
  let dir: string;
  let service: OtaService;
  const keys = generateSigningKey();
  const image = Buffer.alloc(2048, 9);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-ota-service-'));
    const repository = new ImageRepository(dir, trustedKeys([keys.publicPem]).keys);
    assert.ok(repository.add('env-1.3.0', image, signImage(image, createPrivateKey(keys.privatePem), { version: '1.3.0', kind: KIND.envSensor })).ok);
    const store = new Map<string, unknown>();
    const plan = parsePlan({ waves: [50, 100], concurrency: 5, soakSeconds: 0, healthGate: { windowSeconds: 1, margin: 10 } });
    assert.ok(plan.ok);
    service = new OtaService({
      store: { keys: () => [...store.keys()], get: (k) => store.get(k), commit: (c) => { for (const [k, v] of c) store.set(k, v); } },
      repository, secret: 'a-secret-of-enough-bytes', downloadUrl: 'http://127.0.0.1:1880/fleet/ota/firmware', tokenTtlSeconds: 3600, plan: plan.value,
      known: () => ['d1', 'd2', 'd3', 'd4'].map((id) => ({ id, kind: KIND.envSensor, arch: null, version: '1.2.0', labels: {} })),
    });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const commands = (o: OtaOutputs | null): Array<{ device: string; job: string }> =>
    (o?.[0] ?? []).filter((m) => m.topic.startsWith('ota/update/')).map((m) => ({ device: m.topic.split('/')[2], job: (m.payload as { job_id: string }).job_id }));
  const health = (device: string, state: string, score: number, at: number) => service.input({ topic: `health/${device}`, payload: { device, previous: 'unknown', state, score } }, at);
  const summary = (): RolloutSummary => (service.state() as { rollout: RolloutSummary }).rollout;

  it('holds the wave while the updated devices score worse than the waiting ones by more than the margin, and says so', () => {
    const wave1 = commands(service.input({ topic: 'start', payload: { id: 'r1', image: 'env-1.3.0', targets: 'all' } }, T0));
    assert.equal(wave1.length, 2);
    const waiting = ['d1', 'd2', 'd3', 'd4'].filter((d) => !wave1.some((c) => c.device === d));
    for (const d of waiting) health(d, 'healthy', 100, T0);
    for (const c of wave1) {
      // Decoded progress (msg.kind ota-progress, msg.device), as fleet-decode hands it on.
      service.input({ kind: 'ota-progress', device: { id: c.device }, payload: { job_id: c.job, state: 'UPDATED', firmware_version: '1.3.0', timestamp: T0 + 10, time_source: 'device' } }, T0 + 10);
      health(c.device, 'degraded', 75, T0 + 20);
    }
    const held = service.tick(T0 + 2000);
    assert.deepEqual(commands(held), [], 'no command for the next wave');
    const s = summary();
    assert.deepEqual([s.status, s.wave, s.waveState], ['running', 0, 'held']);
    assert.match(String(s.note), /updated devices score 75\.0 on average, not-yet-updated 100\.0; more than the margin of 10/);
    assert.deepEqual(s.waves[0].gate && { held: s.waves[0].gate.held, kinds: s.waves[0].gate.kinds }, { held: true, kinds: [{ kind: KIND.envSensor, updated: 75, updatedDevices: 2, waiting: 100, waitingDevices: 2 }] });
    const heldEvent = (held?.[2]?.events as Array<{ type: string; state?: string }> | undefined)?.find((e) => e.type === 'wave');
    assert.equal(heldEvent?.state, 'held');
    const b = service.badge();
    assert.deepEqual([b.key, b.fill, b.vars.wave], ['held', 'yellow', 1]);

    // Still held on the next ticks; once the updated devices recover to within the margin, the wave advances.
    assert.deepEqual(commands(service.tick(T0 + 3000)), []);
    for (const c of wave1) health(c.device, 'healthy', 95, T0 + 3500);
    const next = commands(service.tick(T0 + 4000));
    assert.deepEqual(next.map((c) => c.device).sort(), waiting.sort());
    const after = summary();
    assert.deepEqual([after.wave, after.waveState, after.waves[0].gate?.held], [1, 'updating', false]);
    assert.equal(service.badge().key, 'rollout');
  });

  it('answers the dialog: start refused with the field, pause without a rollout 409, state', () => {
    assert.deepEqual(service.command('start', { image: 'env-1.3.0', targets: 'all', plan: { waves: [60, 50] } }, T0).status, 400);
    assert.equal(service.command('pause', {}, T0).status, 409);
    assert.equal(service.command('explode', {}, T0).status, 404);
    const ok = service.command('start', { id: 'r2', image: 'env-1.3.0', targets: ['d1'] }, T0);
    assert.equal(ok.status, 200);
    assert.equal(commands(ok.outputs ?? null).length, 1);
    assert.equal((service.state() as { known: number }).known, 4);
  });

  it('throws a catchable error naming what is wrong', () => {
    assert.throws(() => service.input({ action: 'abrot' }, T0), /msg\.action "abrot" is not one of start, pause/);
    assert.throws(() => service.input({ topic: 'pause' }, T0), /no rollout is running/);
    assert.throws(() => service.input({ topic: 'health/d1', payload: { device: 'd1', state: 'fine' } }, T0), /not a health state/);
    assert.throws(() => service.input({ topic: 'ota/progress/d1', payload: { state: 'UPDATED' } }, T0), /progress of d1: job_id/);
  });
});
