/**
 * The logic moved out of the adapters into lib/: fleet-alerts' command protocol and admin checks, the
 * shared device label builder, fleet-health's controller (sweep slices, restore, messages, the cap) and
 * fleet-registry's configuration and device-list query.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { answerRequest, checkRequest, exportRequest, importRequest, ENDPOINT_BODY_LIMIT } from '../../lib/alerts/admin';
import { applyCommand, readCommand } from '../../lib/alerts/commands';
import { AlertDispatcher } from '../../lib/alerts/dispatcher';
import { compileTree } from '../../lib/alerts/routes';
import { alertLabels, healthLabels, readDevice } from '../../lib/device-labels';
import { defaultHealthConfig } from '../../lib/health/config';
import { HealthController, nextSweepSlice, parseHealthNodeConfig, SLICE_BUDGET_MS, SWEEP_MAX, SWEEP_MIN, validateScoringRequest, type HealthOutputs } from '../../lib/health/controller';
import { parseDeviceQuery, parseRegistryConfig } from '../../lib/registry/config';
import { FleetRegistry } from '../../lib/registry/registry';
import { Journal } from '../../lib/store/journal';

const NOW = 1_700_000_000_000;

describe('fleet-alerts commands (lib/alerts/commands.ts)', () => {
  const nextId = (): string => 'generated';

  it('reads a silence with a duration or an endsAt, caps its texts, and names a missing id', () => {
    const r = readCommand({ topic: 'silence', payload: { matchers: ['site=north'], duration: '2h', comment: 'x'.repeat(3000) } }, NOW, nextId);
    assert.ok(r && r.ok && r.command.kind === 'silence');
    assert.equal(r.command.silence.id, 'generated');
    assert.equal(r.command.silence.endsAt, NOW + 2 * 3600_000);
    assert.equal(r.command.silence.comment?.length, 2000);
    const at = readCommand({ topic: 'silence', payload: { id: 's1', matchers: ['a=b'], endsAt: new Date(NOW + 1000).toISOString() } }, NOW, nextId);
    assert.ok(at && at.ok && at.command.kind === 'silence' && at.command.silence.id === 's1' && at.command.silence.endsAt === NOW + 1000);
  });

  it('refuses a silence without matchers, or ending in the past, with the reason', () => {
    const none = readCommand({ topic: 'silence', payload: { matchers: [], duration: '1h' } }, NOW, nextId);
    assert.ok(none && !none.ok && /non-empty list/.test(none.reason));
    const past = readCommand({ topic: 'silence', payload: { matchers: ['a=b'], endsAt: new Date(NOW - 1).toISOString() } }, NOW, nextId);
    assert.ok(past && !past.ok && /future endsAt/.test(past.reason));
    const text = readCommand({ topic: 'silence', payload: 'site=north' }, NOW, nextId);
    assert.ok(text && !text.ok);
  });

  it('reads unsilence and ack (by fingerprint or matchers), a delivery confirmation, and leaves alerts alone', () => {
    assert.deepEqual(readCommand({ topic: 'unsilence', payload: { id: 's1' } }, NOW, nextId), { ok: true, command: { kind: 'unsilence', id: 's1' } });
    const bad = readCommand({ topic: 'unsilence', payload: { id: 7 } }, NOW, nextId);
    assert.ok(bad && !bad.ok && bad.reason === 'fleet-alerts: unsilence: no silence 7');
    assert.deepEqual(readCommand({ topic: 'ack', payload: { fingerprint: 'f1' } }, NOW, nextId), { ok: true, command: { kind: 'ack', by: 'f1' } });
    const ack = readCommand({ topic: 'ack', payload: { matchers: ['device=d1'] } }, NOW, nextId);
    assert.ok(ack && ack.ok && ack.command.kind === 'ack' && Array.isArray(ack.command.by));
    const noAck = readCommand({ topic: 'ack', payload: {} }, NOW, nextId);
    assert.ok(noAck && !noAck.ok && /fingerprint or matchers/.test(noAck.reason));
    assert.deepEqual(readCommand({ notification: { id: 'n1' }, idempotencyKey: 'n1' }, NOW, nextId), { ok: true, command: { kind: 'delivered', id: 'n1' } });
    assert.equal(readCommand({ notification: { id: 'n1' }, idempotencyKey: 'n2' }, NOW, nextId), null);
    assert.equal(readCommand({ topic: 'alert/x', payload: { labels: {} } }, NOW, nextId), null);
  });

  it('applies them: a silence mutes, unsilence of an unknown id is refused, a confirmation reaches the store', () => {
    const tree = compileTree({ receiver: 'email' }, ['email']);
    assert.ok(tree.ok);
    const d = new AlertDispatcher(tree.value);
    const s = readCommand({ topic: 'silence', payload: { id: 's1', matchers: ['site=north'], duration: '1h' } }, NOW, nextId);
    assert.ok(s && s.ok);
    assert.equal(applyCommand(s.command, d, () => undefined), undefined);
    assert.equal(d.activeSilences(NOW).length, 1);
    assert.match(String(applyCommand({ kind: 'unsilence', id: 'nope' }, d, () => undefined)), /no silence "nope"/);
    assert.equal(applyCommand({ kind: 'unsilence', id: 's1' }, d, () => undefined), undefined);
    const confirmed: string[] = [];
    applyCommand({ kind: 'delivered', id: 'n9' }, d, (id) => confirmed.push(id));
    assert.deepEqual(confirmed, ['n9']);
  });
});

describe('fleet-alerts admin checks (lib/alerts/admin.ts)', () => {
  it('refuses a body over the limit (declared or measured) and one that is not an object', () => {
    assert.equal(answerRequest(String(ENDPOINT_BODY_LIMIT + 1), {}, checkRequest).status, 413);
    assert.equal(answerRequest(undefined, { yaml: 'x'.repeat(ENDPOINT_BODY_LIMIT) }, importRequest).status, 413);
    assert.equal(answerRequest(undefined, [1], checkRequest).status, 400);
    assert.equal(answerRequest(undefined, null, checkRequest).status, 400);
    assert.equal(answerRequest(undefined, {}, () => { throw new Error('boom'); }).status, 400);
  });

  it('check answers a refused document with 200 and where; a good one with the receivers a sample reaches', () => {
    const bad = answerRequest(undefined, { receivers: ['email'], routing: '{"route": {"receiver": "pager"}}' }, checkRequest);
    assert.equal(bad.status, 200);
    assert.equal((bad.json as { ok: boolean }).ok, false);
    const good = answerRequest(undefined, { receivers: ['email'], routing: '{"route": {"receiver": "email"}}', labels: { site: 'north', n: 5 } }, checkRequest);
    assert.deepEqual((good.json as { receivers: Array<{ receiver: string }> }).receivers.map((r) => r.receiver), ['email']);
    assert.equal(answerRequest(undefined, { receivers: ['email'], labels: 'site=north' }, checkRequest).status, 400);
  });

  it('export refuses receivers and routing of the wrong shape, and writes YAML for a good one', () => {
    assert.equal(exportRequest({ receivers: [1] }).status, 400);
    assert.equal(exportRequest({ routing: '{' }).status, 400);
    assert.equal(exportRequest({ routing: { route: 5 } }).status, 400);
    assert.equal(exportRequest({ routing: { route: {}, inhibit_rules: 5 } }).status, 400);
    const ok = exportRequest({ receivers: ['email'], routing: { route: { receiver: 'email' } } });
    assert.equal(ok.status, 200);
    assert.match(String(ok.yaml), /receiver: email/);
  });
});

describe('device labels, one builder for health and alerts (lib/device-labels.ts)', () => {
  const device = readDevice({ id: 'd1', kind: 'env-sensor', arch: 'full', online: true, labels: { site: 'north', room: 7, team: 'ops', floor: '2' } });

  it('reads msg.device, keeping text labels and counting all of them', () => {
    assert.ok(device);
    assert.equal(device.id, 'd1');
    assert.equal(device.online, true);
    assert.equal(device.labelCount, 4);
    assert.equal(readDevice('d1'), null);
    assert.equal(readDevice({ id: 5 })?.id, null);
  });

  it('health keeps the location keys; alerts kind, arch and every text label', () => {
    assert.deepEqual(healthLabels(device), { site: 'north', floor: '2' });
    const a = alertLabels(device);
    assert.ok(a.ok);
    assert.deepEqual(a.labels, { kind: 'env-sensor', arch: 'full', site: 'north', team: 'ops', floor: '2' });
  });

  it('alerts refuse more labels than the cap, naming the field; inherited keys are not labels', () => {
    const many = readDevice({ id: 'd', labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, 'v'])) });
    const r = alertLabels(many);
    assert.ok(!r.ok && r.field === 'device.labels' && /65 labels; at most 64/.test(r.reason));
    const proto = readDevice({ id: 'd', labels: Object.create({ site: 'inherited' }) as object });
    assert.deepEqual(healthLabels(proto), {});
  });
});

describe('fleet-health controller (lib/health/controller.ts)', () => {
  const config = defaultHealthConfig();
  const heartbeat = (id: string) => ({ kind: 'heartbeat', device: { id, kind: 'csi-sensor', labels: { site: 'north' } }, payload: { uptime: 10 } });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'health-ctl-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('reads the node settings as the adapter did: sweep at least 1 s (default 5), summary 0 = off', () => {
    const r = parseHealthNodeConfig({ scoring: '', sweepS: '0', summaryS: -3 });
    assert.ok(r.ok && r.value.sweepMs === 5000 && r.value.summaryMs === 0);
    const s = parseHealthNodeConfig({ sweepS: 0.5, summaryS: '60' });
    assert.ok(s.ok && s.value.sweepMs === 1000 && s.value.summaryMs === 60_000);
    const bad = parseHealthNodeConfig({ scoring: '{"factors": 5}' });
    assert.ok(!bad.ok && bad.field.startsWith('factors'));
  });

  it('answers the summary command, refuses what it cannot score and bad thresholds, with the reason', () => {
    const c = new HealthController(config, null, 100);
    const sum = c.input({ command: 'summary' }, NOW);
    assert.equal(sum?.[2]?.topic, 'health/summary');
    assert.throws(() => c.input({ kind: 'heartbeat', payload: {} }, NOW), /expected a message from fleet-decode/);
    assert.throws(() => c.input({ ...heartbeat('d1'), thresholds: '{"factors": 5}' }, NOW), /msg\.thresholds/);
  });

  it('does not score our own commands to a device: a downlink leaves a silent device unseen', () => {
    const c = new HealthController(config, null, 100);
    const command = { kind: 'ota-command', contract: { direction: 'down', route: 'ota.cancel' }, device: { id: 'quiet-1', kind: null }, payload: { job_id: 'j1', v: 1 } };
    assert.equal(c.input(command, NOW), null);
    assert.equal(c.tracker.get('quiet-1'), undefined);
    c.input(heartbeat('quiet-1'), NOW);
    assert.ok(c.tracker.get('quiet-1'), 'the device\'s own message is scored');
  });

  it('caps the devices without a registry: a new id beyond the cap is counted, not scored', () => {
    const c = new HealthController(config, null, 2);
    for (const id of ['a', 'b', 'c', 'd']) c.input(heartbeat(id), NOW);
    assert.equal(c.tracker.size, 2);
    assert.equal(c.refused, 2);
    assert.equal(c.status().shape, 'ring');
  });

  it('sweeps an outage in slices sized to the time budget, deferring each next slice, and is a no-op while one runs', () => {
    // A fake clock: every device a slice takes offline costs 1/16 ms (exact in binary), so the budget fits 16 a ms.
    let clock = 0;
    const c = new HealthController(config, null, 10_000, undefined, { clock: () => clock });
    const n = 3000;
    for (let i = 0; i < n; i++) c.input(heartbeat(`dev-${i}`), NOW);
    const emitted: HealthOutputs[] = [];
    const deferred: Array<() => void> = [];
    const later = NOW + 3600_000;
    const emit = (o: HealthOutputs): void => { emitted.push(o); clock += (o[0]?.length ?? 0) / 16; };
    c.sweep(later, emit, (next) => deferred.push(next), (err) => { throw err; });
    assert.equal(emitted.length, 1);
    assert.equal(deferred.length, 1);
    c.sweep(later, emit, (next) => deferred.push(next), (err) => { throw err; });
    assert.equal(emitted.length, 1, 'a sweep while one runs does nothing');
    while (deferred.length) deferred.shift()!();
    const sizes = emitted.map((o) => o[0]?.length ?? 0);
    assert.ok(sizes.every((k) => k / 16 <= SLICE_BUDGET_MS), `every slice within the budget: ${sizes.join(',')}`);
    assert.ok(sizes.slice(1, -1).every((k) => k === SLICE_BUDGET_MS * 16), `slices settle at what fits: ${sizes.join(',')}`);
    const devices = emitted.flatMap((o) => (o[0] ?? []).map((m) => m.topic));
    assert.equal(new Set(devices).size, n, 'every device once');
    assert.equal(c.status().counts.offline, n);
  });

  it('sizes sweep slices from the measured cost, within SWEEP_MIN..SWEEP_MAX and at most doubling', () => {
    assert.equal(nextSweepSlice(100, 100, SLICE_BUDGET_MS / 2), 200, 'half the budget used: twice as many');
    assert.equal(nextSweepSlice(100, 100, 16, 8), 50);
    assert.equal(nextSweepSlice(100, 100, 1000), 25, 'at least a quarter of the last slice');
    assert.equal(nextSweepSlice(20, 20, 1000), SWEEP_MIN);
    assert.equal(nextSweepSlice(1500, 1500, 0), SWEEP_MAX);
    assert.equal(nextSweepSlice(100, 10, 0.5, 8), 160, 'a short last slice is measured per device');
  });

  it('restores from its journal, and takes the registry\'s saved health for devices the journal does not know', async () => {
    const file = path.join(tmp, 'fleet-health-x.jsonl');
    const first = new HealthController(config, null, 100);
    first.attach(Journal.open(file));
    first.input(heartbeat('j1'), NOW);
    first.commit(['j1']);
    first.close();
    const fleet = new FleetRegistry(null, { flushMs: 1000 });
    await fleet.ready;
    const other = new HealthController(config, null, 100);
    other.input(heartbeat('r1'), NOW);
    fleet.record({ device: { id: 'r1', kind: 'csi-sensor', arch: null, firmware: null, identified: true, source: 'topic' }, kind: 'heartbeat', payload: { uptime: 1 }, receivedAt: NOW, retained: false } as unknown as Parameters<FleetRegistry['record']>[0]);
    fleet.setHealth('r1', other.tracker.snapshot('r1'));
    const c = new HealthController(config, fleet, 100);
    assert.equal(c.attach(Journal.open(file)), 1);
    c.reconcile();
    assert.ok(c.tracker.get('j1'), 'from the journal');
    assert.ok(c.tracker.get('r1'), 'from the registry');
    await fleet.close();
  });

  it('the validate endpoint: 200 with the verdict, 400 for a request that is not one, 413 when too large', () => {
    assert.deepEqual(validateScoringRequest(undefined, { scoring: '' }), { status: 200, body: { ok: true } });
    assert.equal((validateScoringRequest(undefined, { scoring: '{"factors": 5}' }).body as { ok: boolean }).ok, false);
    assert.equal(validateScoringRequest(undefined, []).status, 400);
    assert.equal(validateScoringRequest(undefined, { other: 1 }).status, 400);
    assert.equal(validateScoringRequest('999999', { scoring: '' }).status, 413);
  });
});

describe('fleet-registry configuration (lib/registry/config.ts)', () => {
  it('takes the editor\'s bounds for flushMs and maxDevices, and the environment\'s cap when none is set', () => {
    const r = parseRegistryConfig({ id: 'reg', persist: false, flushMs: '200' }, 123);
    assert.ok(r.ok);
    assert.deepEqual(r.value, { persist: false, store: undefined, flushMs: 200, maxDevices: 123, name: 'reg' });
    const own = parseRegistryConfig({ maxDevices: 50, name: 'north' }, 123);
    assert.ok(own.ok && own.value.maxDevices === 50 && own.value.name === 'north' && own.value.persist);
    for (const [field, def] of [['flushMs', { flushMs: 99 }], ['flushMs', { flushMs: 'soon' }], ['maxDevices', { maxDevices: 0 }], ['maxDevices', { maxDevices: 1.5 }], ['store', { store: 5 }]] as const) {
      const bad = parseRegistryConfig(def);
      assert.equal(bad.ok ? null : bad.field, field, JSON.stringify(def));
    }
  });

  it('reads the device list query, naming a bad parameter', () => {
    assert.deepEqual(parseDeviceQuery({}), { ok: true, value: { q: undefined, limit: 500 } });
    assert.deepEqual(parseDeviceQuery({ q: 'c3', limit: '99999' }), { ok: true, value: { q: 'c3', limit: 5000 } });
    for (const [field, query] of [['q', { q: ['a', 'b'] }], ['q', { q: 'x'.repeat(65) }], ['limit', { limit: '0' }], ['limit', { limit: '1e3' }]] as const) {
      const r = parseDeviceQuery(query);
      assert.equal(r.ok ? null : r.field, field);
    }
  });
});
