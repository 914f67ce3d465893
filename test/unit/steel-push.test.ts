/**
 * fleet-steel's domain: the push tracker (time-outs, success rate against the guide's 95 %), the
 * pusher (checked loads, re-send suppression, per-device requests, alerts), target parsing and the
 * uplink reader. The clock is passed in.
 */
import * as assert from 'node:assert/strict';

import { buildLoadMessage, parseLoadMessage, parseRequest, steelChecksum, type SteelResult, type SteelStatusReport } from '../../firmware/contract/steel';
import { SteelProgramRegistry, SteelProgramRejected } from '../../lib/steel/program';
import { parseSteelPushConfig, parseTargets, targetsFromMessage } from '../../lib/steel/push-config';
import { PushTracker } from '../../lib/steel/push-tracker';
import { SteelPusher, type Command } from '../../lib/steel/pusher';
import { compileSelector, selectDevices, type SelectableDevice } from '../../lib/steel/selector';
import { readSteelUplink } from '../../lib/steel/uplink';
import { GUIDE_BLINK, GUIDE_SENSOR_MONITORING } from './steel-fixtures';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (t: number): string => new Date(t).toISOString();
const status = (id: string, s: SteelStatusReport['status'], at = T0): SteelStatusReport => ({ program_id: id, status: s, message: null, timestamp: iso(at), execution_time_ms: s === 'Completed' ? 12 : null });
const result = (id: string, success: boolean, at = T0): SteelResult => ({ program_id: id, success, result: success ? 'void' : null, error: success ? null : 'boom', execution_time_ms: 5, timestamp: iso(at) });

describe('Steel push tracker', () => {
  it('times out devices that do not answer, and only after the time-out', () => {
    const t = new PushTracker({ timeoutMs: 10_000 });
    t.expect('p', '1.0.0', 'load', ['a', 'b'], T0);
    t.noteStatus('a', status('p', 'Completed'), T0 + 2000);
    assert.deepEqual(t.expire(T0 + 9_999), []);
    const out = t.expire(T0 + 10_000);
    assert.deepEqual(out.map((o) => [o.device, o.outcome, o.status, o.latencyMs]), [['b', 'timeout', 'TimedOut', 10_000]]);
    assert.equal(t.pendingCount(), 0);
    assert.deepEqual(t.expire(T0 + 60_000), [], 'a time-out is reported once');
  });

  it('computes the success rate over successes, failures and time-outs, against the 95 % target', () => {
    const t = new PushTracker({ timeoutMs: 1000 });
    const devices = Array.from({ length: 20 }, (_x, i) => `d${i}`);
    t.expect('p', '1.0.0', 'load', devices, T0);
    for (const d of devices.slice(0, 19)) t.noteStatus(d, status('p', 'Completed'), T0 + 10);
    let s = t.summary('p');
    assert.equal(s.successRate, 1);
    assert.equal(s.pending, 1);
    t.expire(T0 + 1000);
    s = t.summary('p');
    assert.deepEqual([s.sent, s.succeeded, s.failed, s.timedOut, s.pending], [20, 19, 0, 1, 0]);
    assert.equal(s.successRate, 0.95);
    assert.equal(s.meetsTarget, false, 'the guide asks for more than 95 %');
    t.expect('p', '1.0.0', 'execute', devices.slice(0, 1), T0 + 2000);
    t.noteResult('d0', result('p', true), T0 + 2001);
    assert.equal(t.summary('p').meetsTarget, true, '20 of 21');
  });

  it('counts a load that only stored the program (Pending) as delivered, not as an execution', () => {
    const t = new PushTracker();
    t.expect('p', '1', 'load', ['a'], T0);
    const o = t.noteStatus('a', status('p', 'Pending'), T0 + 5);
    assert.equal(o.outcome, 'delivered');
    const s = t.summary('p');
    assert.deepEqual([s.delivered, s.successRate, s.meetsTarget], [1, null, null]);
  });

  it('re-sending to a device still waiting restarts its wait without counting it twice', () => {
    const t = new PushTracker({ timeoutMs: 1000 });
    t.expect('p', '1', 'load', ['a'], T0);
    t.expect('p', '1', 'load', ['a'], T0 + 800);
    assert.equal(t.summary('p').sent, 1);
    assert.deepEqual(t.expire(T0 + 1000), []);
    assert.equal(t.expire(T0 + 1800).length, 1);
  });

  it('answers a status request from the full report, and names programs the device does not hold', () => {
    const t = new PushTracker();
    t.expect('p', '1', 'status', ['a'], T0);
    t.expect('q', '1', 'status', ['a'], T0);
    const out = t.noteFullReport('a', { device_id: 'a', programs: [status('p', 'Running')], timestamp: iso(T0) }, T0 + 3);
    assert.deepEqual(out.map((o) => [o.programId, o.status, o.operation]), [['p', 'Running', 'status'], ['q', 'Absent', 'status']]);
    assert.equal(t.pendingCount(), 0);
  });

  it('keeps its counts through a snapshot', () => {
    const t = new PushTracker();
    t.expect('p', '1', 'execute', ['a', 'b'], T0);
    t.noteResult('a', result('p', true), T0);
    t.noteResult('b', result('p', false), T0);
    const u = new PushTracker();
    u.restore(JSON.parse(JSON.stringify(t.snapshot())));
    assert.deepEqual({ ...u.summary('p'), pending: 0 }, { ...t.summary('p'), pending: 0 });
    u.restore({ __proto__: { x: 1 }, q: 'junk' });
    assert.equal(u.summary('q').sent, 0);
  });
});

function pusher(devices: SelectableDevice[] = [], timeoutMs = 5000): SteelPusher {
  return new SteelPusher(SteelProgramRegistry.inMemory(), { check: {}, timeoutMs, target: 0.95, devices: () => devices });
}
const load = (targets: Command['targets'], source = GUIDE_SENSOR_MONITORING, version = '1.0.0'): Command =>
  ({ action: 'load', programId: 'sensor-monitor', version, source, autoStart: true, targets });
const dev = (id: string, labels: Record<string, string> = {}, kind: string | null = 'steel-device'): SelectableDevice => ({ id, kind, arch: null, firmware: '1.0.0', online: true, labels });

describe('Steel pusher', () => {
  it('turns the guide\'s sensor-monitoring program into exactly the device\'s load message', () => {
    const p = pusher();
    const r = p.push(load({ type: 'devices', devices: ['steel-001'] }), T0);
    assert.equal(r.publishes.length, 1);
    assert.equal(r.publishes[0].topic, 'steel-programs/steel-001/load');
    const sent = JSON.parse(r.publishes[0].payload) as Record<string, unknown>;
    const expected = buildLoadMessage({ programId: 'sensor-monitor', steelCode: GUIDE_SENSOR_MONITORING, version: '1.0.0', autoStart: true, metadata: { createdAt: (sent.metadata as { created_at: string }).created_at, executionTimeout: 5 } });
    assert.deepEqual(sent, JSON.parse(JSON.stringify(expected)));
    assert.equal(sent.checksum, steelChecksum(GUIDE_SENSOR_MONITORING));
    assert.ok(parseLoadMessage(r.publishes[0].payload).ok, 'the device parses it');
  });

  it('refuses a program with an unknown function or a missing paren, with line:column, and plans nothing', () => {
    const p = pusher();
    const cases: Array<[string, string, string]> = [
      ['(define (f)\n  (led-of))\n(f)\n', 'unknown-function', '2:4'],
      ['(define (f)\n  (led-on)\n(f)\n', 'syntax', '1:1'],
    ];
    for (const [src, rule, where] of cases) {
      assert.throws(() => p.push(load({ type: 'devices', devices: ['steel-001'] }, src), T0), (err: unknown) => {
        assert.ok(err instanceof SteelProgramRejected);
        const f = err.check.findings.find((x) => x.severity === 'error');
        assert.equal(f?.rule, rule);
        assert.equal(`${f?.line}:${f?.col}`, where);
        return true;
      });
    }
    assert.equal(p.registry.list().length, 0, 'nothing registered');
    assert.equal(p.tracker.pendingCount(), 0, 'nothing waited for');
  });

  it('does not re-send a version a device already runs, and sends a new version', () => {
    const p = pusher();
    const targets = { type: 'devices' as const, devices: ['steel-001', 'steel-002'] };
    p.push(load(targets), T0);
    p.uplink({ kind: 'status', device: 'steel-001', value: status('sensor-monitor', 'Completed') }, T0 + 10);
    const again = p.push(load(targets), T0 + 20);
    assert.deepEqual(again.skipped, ['steel-001', 'steel-002'], 'steel-002 has it on the way');
    assert.deepEqual(again.publishes, []);
    p.tick(T0 + 5000);
    const afterTimeout = p.push(load(targets), T0 + 5001);
    assert.deepEqual(afterTimeout.publishes.map((x) => x.device), ['steel-002'], 'steel-002 never answered: sent again');
    const v2 = p.push(load(targets, GUIDE_BLINK, '1.1.0'), T0 + 6000);
    assert.deepEqual(v2.publishes.map((x) => x.device), ['steel-001', 'steel-002']);
  });

  it('selects devices by registry labels, and refuses a selector matching none', () => {
    const p = pusher([dev('steel-001', { site: 'north' }), dev('steel-002', { site: 'south' }), dev('esp32-c3-full-001', { site: 'north' }, 'env-sensor')]);
    const sel = parseTargets('selector', 'kind="steel-device"\nsite=~"north|east"', 'target', compileSelector);
    assert.ok(sel.ok);
    const r = p.push(load(sel.value), T0);
    assert.deepEqual(r.publishes.map((x) => x.device), ['steel-001']);
    const none = parseTargets('selector', 'site=west', 'target', compileSelector);
    assert.ok(none.ok);
    assert.throws(() => p.push(load(none.value), T0), /matches no device/);
  });

  it('broadcasts a load as one message and waits for the Steel devices it knows', () => {
    const p = pusher([dev('steel-001'), dev('steel-002'), dev('audio-001', {}, 'audio-device')]);
    const r = p.push(load({ type: 'broadcast' }), T0);
    assert.deepEqual(r.publishes.map((x) => x.topic), ['steel-programs/broadcast/load']);
    assert.equal(r.summary.pending, 2);
  });

  it('sends stop, remove and status to each device (the device takes only load and execute on broadcast)', () => {
    const p = pusher([dev('steel-001'), dev('steel-002')]);
    for (const action of ['stop', 'remove', 'status'] as const) {
      const r = p.push({ action, programId: 'sensor-monitor', version: '1.0.0', autoStart: false, targets: { type: 'broadcast' } }, T0);
      assert.deepEqual(r.publishes.map((x) => x.topic), [`steel-programs/steel-001/${action}`, `steel-programs/steel-002/${action}`]);
      const req = parseRequest(r.publishes[0].payload);
      assert.ok(req.ok);
      assert.equal(req.value.action, action === 'status' ? 'Status' : action === 'stop' ? 'Stop' : 'Remove');
    }
    const ex = p.push({ action: 'execute', programId: 'sensor-monitor', version: '1.0.0', autoStart: false, targets: { type: 'broadcast' } }, T0);
    assert.deepEqual(ex.publishes.map((x) => x.topic), ['steel-programs/broadcast/execute']);
  });

  it('raises an alert for a failed or unanswered execution, resolves it on success, and a rate alert once the round is over', () => {
    const p = pusher([], 1000);
    p.push(load({ type: 'devices', devices: ['steel-001', 'steel-002'] }), T0);
    const failed = p.uplink({ kind: 'status', device: 'steel-001', value: status('sensor-monitor', 'Failed') }, T0 + 5);
    assert.deepEqual(failed.alerts.map((a) => [a.name, a.status, a.device, a.labels.program]), [['SteelProgramFailed', 'firing', 'steel-001', 'sensor-monitor']]);
    const timedOut = p.tick(T0 + 1000);
    assert.deepEqual(timedOut.outcomes.map((o) => [o.device, o.outcome]), [['steel-002', 'timeout']]);
    const names = timedOut.alerts.map((a) => `${a.name}:${a.device ?? '-'}:${a.status}`);
    assert.deepEqual(names, ['SteelProgramFailed:steel-002:firing', 'SteelSuccessRateLow:-:firing']);
    assert.equal(timedOut.summaries[0].successRate, 0);
    p.push({ action: 'execute', programId: 'sensor-monitor', version: '1.0.0', autoStart: false, targets: { type: 'devices', devices: ['steel-001'] } }, T0 + 2000);
    const ok = p.uplink({ kind: 'result', device: 'steel-001', value: result('sensor-monitor', true) }, T0 + 2010);
    const resolved = ok.alerts.find((a) => a.device === 'steel-001');
    assert.equal(resolved?.status, 'resolved');
    assert.equal(resolved?.fingerprint, failed.alerts[0].fingerprint, 'the same alert resolves');
  });
});

describe('Steel targets and uplinks', () => {
  it('reads targets from a message', () => {
    assert.deepEqual(targetsFromMessage('broadcast'), { ok: true, value: { type: 'broadcast' } });
    assert.deepEqual(targetsFromMessage(['steel-001', 'steel-002', 'steel-001']), { ok: true, value: { type: 'devices', devices: ['steel-001', 'steel-002'] } });
    assert.deepEqual(targetsFromMessage('steel-001, steel-002'), { ok: true, value: { type: 'devices', devices: ['steel-001', 'steel-002'] } });
    assert.equal(targetsFromMessage(undefined), undefined);
    const bad = targetsFromMessage(['steel-001', 'loader-1']);
    assert.ok(bad && !bad.ok);
    assert.equal(bad.field, 'msg.targets[1]');
    assert.match(bad.reason, /starts with "load"/);
    const sel = targetsFromMessage({ selector: ['site=~"("'] }, compileSelector);
    assert.ok(sel && !sel.ok);
    assert.equal(sel.field, 'msg.targets.selector[0]');
  });

  it('parses the node configuration with the field at fault', () => {
    assert.ok(parseSteelPushConfig({ programId: 'p', source: '(led-on)', target: 'steel-001' }).ok);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ programId: 'bad id', source: '(x)' }, 'programId'],
      [{ source: '' }, 'source'],
      [{ source: '(x)', timeoutS: 0 }, 'timeoutS'],
      [{ source: '(x)', successTarget: 101 }, 'successTarget'],
      [{ source: '(x)', action: 'reboot' }, 'action'],
      [{ source: '(x)', targetType: 'list', target: 'steel-001 status-1' }, 'target[1]'],
      [{ source: '(x)', profile: 'nope' }, 'profile'],
      [{ sourceFrom: 'file' }, 'file'],
    ];
    for (const [def, field] of cases) {
      const r = parseSteelPushConfig(def, compileSelector);
      assert.ok(!r.ok, JSON.stringify(def));
      assert.equal(r.field, field, JSON.stringify(def));
    }
  });

  it('reads device messages raw or as fleet-decode wrote them', () => {
    const raw = readSteelUplink('steel-programs/steel-001/status/report', Buffer.from(JSON.stringify(status('p', 'Completed'))));
    assert.equal(raw?.kind, 'status');
    const decoded = readSteelUplink('steel-programs/steel-001/result', { ...result('p', true), timestamp: T0, time_source: 'device' });
    assert.equal(decoded?.kind, 'result');
    assert.equal(decoded?.kind === 'result' ? decoded.value.timestamp : null, iso(T0));
    const bad = readSteelUplink('steel-programs/steel-001/result', '{"program_id": 1}');
    assert.equal(bad?.kind, 'invalid');
    assert.equal(readSteelUplink('steel-programs/steel-001/load', '{}'), null, 'a downlink is not an answer');
    assert.equal(readSteelUplink('$aws/things/steel-001/shadow/update', { state: { desired: { led_control: true } } })?.kind, 'shadow');
  });

  it('selects by id, kind and labels, never by a prototype member', () => {
    const m = compileSelector(['constructor=~".+"']);
    assert.ok(m.ok);
    assert.deepEqual(selectDevices(m.value, [dev('steel-001')]), []);
  });
});
