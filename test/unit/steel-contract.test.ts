/**
 * The Steel messages as mparkachov/aws-iot-steel's device code spells them (commit bc93bcc7):
 * aws-iot-core/src/types.rs, program_delivery.rs, shadow_manager.rs. And the program registry.
 */
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import Ajv from 'ajv';

import {
  buildLoadMessage, buildRequest, matchSteelTopic, parseFullReport, parseLoadMessage, parseRequest, parseResult,
  parseShadowUpdate, parseStatusReport, steelChecksum, steelDeviceIdProblem, steelTopic, STEEL_TOPIC_ROUTES,
} from '../../firmware/contract/steel';
import { prepareLoad, SteelProgramRegistry, SteelProgramRejected } from '../../lib/steel/program';

const schemaDir = path.resolve(__dirname, '..', '..', '..', 'firmware', 'contract', 'schemas', 'v1');
const ajv = new Ajv({ allErrors: true, strict: false });
const compiled = new Map<string, ReturnType<typeof ajv.compile>>();
const schema = (name: string) => {
  let v = compiled.get(name);
  if (!v) { v = ajv.compile(JSON.parse(fs.readFileSync(path.join(schemaDir, `${name}.json`), 'utf8'))); compiled.set(name, v); }
  return v;
};
const T = '2025-08-25T09:06:08.123456Z'; // chrono's RFC 3339 with microseconds

describe('steel contract: topics', () => {
  it('builds the device\'s topics (program_delivery.rs get_program_topic / get_broadcast_topic)', () => {
    assert.equal(steelTopic('load', 'steel-001'), 'steel-programs/steel-001/load');
    for (const op of ['execute', 'stop', 'remove', 'status'] as const) assert.equal(steelTopic(op, 'dev-1'), `steel-programs/dev-1/${op}`);
    assert.equal(steelTopic('load', 'broadcast'), 'steel-programs/broadcast/load');
    assert.equal(steelTopic('execute', 'broadcast'), 'steel-programs/broadcast/execute');
  });

  it('refuses what the device never subscribes to, and ids its dispatch would misread', () => {
    // subscribe_to_program_topics: broadcast takes load and execute only
    for (const op of ['stop', 'remove', 'status'] as const) assert.throws(() => steelTopic(op, 'broadcast'), /do not subscribe/);
    assert.throws(() => steelTopic('load', 'a/b'), /topic separator/);
    assert.throws(() => steelTopic('load', 'dev+1'), /wildcard/);
    // handle_program_mqtt_message matches topic.contains("/load") first
    assert.match(steelDeviceIdProblem('loader-1') ?? '', /contains\("\/load"\)/);
    assert.throws(() => steelTopic('execute', 'status-panel'), /read every/);
    assert.equal(steelDeviceIdProblem('steel-001'), null);
  });

  it('matches every Steel topic, both shadow spellings, and nothing else', () => {
    assert.deepEqual(matchSteelTopic('steel-programs/dev-1/status/report'), { route: 'steel.status-report', direction: 'up', device: 'dev-1', broadcast: false });
    assert.equal(matchSteelTopic('steel-programs/dev-1/status/full-report')?.route, 'steel.status-full-report');
    assert.equal(matchSteelTopic('steel-programs/dev-1/result')?.route, 'steel.result');
    assert.equal(matchSteelTopic('steel-programs/dev-1/status')?.route, 'steel.status');
    assert.deepEqual(matchSteelTopic('steel-programs/broadcast/load'), { route: 'steel.load', direction: 'down', device: null, broadcast: true });
    assert.equal(matchSteelTopic('steel-programs/broadcast/stop'), null);
    assert.deepEqual(matchSteelTopic('$aws/thing/thing-1/shadow/update'), { route: 'steel.shadow-update', direction: 'up', device: 'thing-1', broadcast: false });
    assert.equal(matchSteelTopic('$aws/things/thing-1/shadow/update')?.device, 'thing-1');
    for (const t of ['steel-programs/dev-1/eval', 'steel-programs/dev-1', 'steel-programs/a/b/c/d', '$aws/things/x/shadow/get', 'esp32/x/health', 42]) assert.equal(matchSteelTopic(t), null, String(t));
    assert.equal(new Set(STEEL_TOPIC_ROUTES.map((r) => r.id)).size, 9);
  });
});

describe('steel contract: downlink builders', () => {
  it('the load message is a ProgramMessage with the bare lowercase hex SHA-256 of steel_code', () => {
    const code = '(begin (log "info" "Integration test program") (+ 1 2 3))'; // from program_delivery.rs tests
    const m = buildLoadMessage({ programId: 'integration-test-program', programName: 'Integration Test', steelCode: code, version: '1.0.0', autoStart: true });
    assert.deepEqual(Object.keys(m).sort(), ['auto_start', 'checksum', 'metadata', 'program_id', 'program_name', 'steel_code', 'version']);
    assert.equal(m.checksum, createHash('sha256').update(code).digest('hex'));
    assert.match(m.checksum, /^[0-9a-f]{64}$/);
    assert.equal(steelChecksum('λ'), createHash('sha256').update(Buffer.from('λ', 'utf8')).digest('hex'));
    assert.equal(m.metadata, null);
    assert.ok(schema('steel-program-load')(JSON.parse(JSON.stringify(m))));
    assert.deepEqual(parseLoadMessage(JSON.stringify(m)), { ok: true, value: m });
  });

  it('metadata carries created_at (required by ProgramMetadata) as RFC 3339', () => {
    const m = buildLoadMessage({ programId: 'p', steelCode: '(led-on)', version: '2', metadata: { description: 'd', createdAt: '2025-01-02T03:04:05Z', executionTimeout: 30 } });
    assert.deepEqual(m.metadata, { description: 'd', author: null, created_at: '2025-01-02T03:04:05.000Z', memory_requirement: null, execution_timeout: 30 });
    assert.equal(m.program_name, 'p');
    assert.ok(schema('steel-program-load')(JSON.parse(JSON.stringify(m))));
  });

  it('the guide\'s two-field load example is not a message the device accepts', () => {
    const guide = { program_id: 'my-program', auto_start: true };
    const r = parseLoadMessage(guide);
    assert.equal(r.ok, false);
    assert.deepEqual(!r.ok && r.errors.map((e) => e.field).sort(), ['checksum', 'program_name', 'steel_code', 'version']);
    assert.equal(schema('steel-program-load')(guide), false);
  });

  it('requests carry the actions as the code spells them (ProgramAction variants)', () => {
    assert.deepEqual(buildRequest('execute', 'p1'), { program_id: 'p1', action: 'Execute', parameters: null, timeout_seconds: null });
    assert.equal(buildRequest('stop', 'p1').action, 'Stop');
    assert.equal(buildRequest('remove', 'p1').action, 'Remove');
    assert.equal(buildRequest('status', 'p1').action, 'Status');
    assert.deepEqual(buildRequest('execute', 'p1', { action: 'Status', timeoutSeconds: 5, parameters: { a: 1 } }), { program_id: 'p1', action: 'Status', parameters: { a: 1 }, timeout_seconds: 5 });
    const v = schema('steel-program-request');
    assert.ok(v(buildRequest('execute', 'p1')));
    assert.equal(v({ program_id: 'p1', action: 'execute' }), false);
    assert.equal(parseRequest({ program_id: 'p1', action: 'execute' }).ok, false);
    assert.throws(() => buildRequest('execute', 'bad id'), /program_id/);
    assert.throws(() => buildRequest('execute', 'p', { timeoutSeconds: -1 }), /timeout_seconds/);
    assert.throws(() => buildLoadMessage({ programId: 'p', steelCode: '', version: '1' }), /steel_code/);
  });
});

describe('steel contract: uplink parsers', () => {
  it('status reports (ProgramDeliveryStatus), Option fields null or absent', () => {
    const r = parseStatusReport(JSON.stringify({ program_id: 'p', status: 'Running', message: 'Program execution started', timestamp: T, execution_time_ms: null }));
    assert.deepEqual(r, { ok: true, value: { program_id: 'p', status: 'Running', message: 'Program execution started', timestamp: T, execution_time_ms: null } });
    for (const s of ['Pending', 'Loading', 'Running', 'Completed', 'Failed', 'Stopped']) assert.equal(parseStatusReport({ program_id: 'p', status: s, timestamp: T }).ok, true, s);
    const bad = parseStatusReport({ program_id: 'p', status: 'running', timestamp: 'yesterday', execution_time_ms: -1 });
    assert.equal(bad.ok, false);
    assert.deepEqual(!bad.ok && bad.errors.map((e) => e.field), ['status', 'timestamp', 'execution_time_ms']);
    assert.ok(schema('steel-program-status')({ program_id: 'p', status: 'Completed', message: null, timestamp: T, execution_time_ms: 12 }));
  });

  it('full reports (ProgramStatusReport) name the bad entry', () => {
    const ok = parseFullReport({ device_id: 'd', programs: [{ program_id: 'p', status: 'Completed', timestamp: T }], timestamp: T });
    assert.equal(ok.ok, true);
    const bad = parseFullReport({ device_id: 'd', programs: [{ program_id: 'p', status: 'Completed', timestamp: T }, { program_id: 'q' }], timestamp: T });
    assert.deepEqual(!bad.ok && bad.errors.map((e) => e.field), ['programs[1].status', 'programs[1].timestamp']);
  });

  it('results (ProgramResult): result is a string, execution_time_ms required', () => {
    const r = parseResult({ program_id: 'p', success: true, result: 'LED command executed', error: null, execution_time_ms: 3, timestamp: T });
    assert.equal(r.ok, true);
    const bad = parseResult({ program_id: 'p', success: 'yes', result: 42, timestamp: T });
    assert.deepEqual(!bad.ok && bad.errors.map((e) => e.field), ['success', 'result', 'execution_time_ms']);
    assert.ok(schema('steel-program-result')({ program_id: 'p', success: false, result: null, error: 'Simulated program error', execution_time_ms: 0, timestamp: T }));
  });

  it('the reported shadow (DeviceState, externally tagged enums)', () => {
    const reported = {
      runtime_status: { ExecutingProgram: { program_id: 'blink', started_at: T } },
      hardware_state: { led_status: true, sleep_status: { Sleeping: { wake_time: T } }, memory_usage: { total_bytes: 327680, free_bytes: 200000, used_bytes: 127680, largest_free_block: 100000 } },
      system_info: { firmware_version: '1.0.0', platform: 'esp32-c3', uptime_seconds: 3600, steel_runtime_version: '0.7.0' },
      timestamp: T,
    };
    const r = parseShadowUpdate({ state: { reported } });
    assert.ok(r.ok);
    assert.deepEqual(r.value.reported?.runtime_status, { state: 'ExecutingProgram', program_id: 'blink', started_at: T });
    assert.deepEqual(r.value.reported?.hardware_state.sleep_status, { state: 'Sleeping', wake_time: T });
    assert.ok(schema('steel-shadow-update')({ state: { reported } }));
    const idle = parseShadowUpdate({ state: { reported: { ...reported, runtime_status: 'Idle', hardware_state: { ...reported.hardware_state, sleep_status: 'Awake' } } } });
    assert.ok(idle.ok && idle.value.reported?.runtime_status.state === 'Idle');
    const bad = parseShadowUpdate({ state: { reported: { ...reported, runtime_status: { Running: {} }, hardware_state: { ...reported.hardware_state, memory_usage: {} } } } });
    assert.equal(bad.ok, false);
    assert.ok(!bad.ok && bad.errors.some((e) => e.field === 'state.reported.runtime_status'));
    assert.ok(!bad.ok && bad.errors.some((e) => e.field === 'state.reported.hardware_state.memory_usage.total_bytes'));
    assert.equal(parseShadowUpdate({ state: { desired: { led_control: true } } }).ok, true);
    assert.equal(parseShadowUpdate({ state: {} }).ok, false);
  });

  it('never throws: not JSON, not an object, getters that throw', () => {
    const evil = Object.defineProperty({}, 'program_id', { get() { throw new Error('boom'); }, enumerable: true });
    for (const input of ['{', 'null', '[1]', Buffer.from('7'), undefined, null, 5, evil]) {
      for (const parse of [parseStatusReport, parseFullReport, parseResult, parseShadowUpdate, parseLoadMessage, parseRequest]) {
        const r = parse(input);
        assert.equal(r.ok, false);
      }
    }
  });
});

describe('steel program registry', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steel-reg-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('checks before anything is planned: a rejected program is not registered or sent', () => {
    const reg = SteelProgramRegistry.inMemory();
    assert.throws(() => prepareLoad(reg, { programId: 'p', version: '1', source: '(led-on' }, ['d1']), (err: unknown) => {
      assert.ok(err instanceof SteelProgramRejected);
      assert.match(err.message, /1:1: syntax/);
      assert.equal(err.check.findings[0].rule, 'syntax');
      return true;
    });
    assert.throws(() => prepareLoad(reg, { programId: 'p', version: '1', source: '(blink-twice)' }, ['d1']), /unknown-function/);
    assert.equal(reg.get('p'), undefined);
    assert.equal(reg.deviceState('d1', 'p'), undefined);
  });

  it('does not re-send a version a device already runs; a new version goes out; same version other code is refused', () => {
    const reg = SteelProgramRegistry.open(path.join(dir, 'steel.jsonl'));
    const first = prepareLoad(reg, { programId: 'blink', version: '1.0.0', source: '(led-on)', autoStart: true }, ['d1', 'd2']);
    assert.deepEqual(first.publishes.map((p) => p.topic), ['steel-programs/d1/load', 'steel-programs/d2/load']);
    assert.equal(first.publishes[0].payload.checksum, steelChecksum('(led-on)'));
    reg.noteStatus('d1', { program_id: 'blink', status: 'Running', message: null, timestamp: T, execution_time_ms: null });
    reg.noteStatus('d2', { program_id: 'blink', status: 'Failed', message: 'x', timestamp: T, execution_time_ms: null });
    reg.close();

    const again = SteelProgramRegistry.open(path.join(dir, 'steel.jsonl')); // survives a restart
    const second = prepareLoad(again, { programId: 'blink', version: '1.0.0', source: '(led-on)' }, ['d1', 'd2', 'd3']);
    assert.deepEqual(second.skipped, ['d1']);
    assert.deepEqual(second.publishes.map((p) => p.device), ['d2', 'd3']);
    assert.throws(() => prepareLoad(again, { programId: 'blink', version: '1.0.0', source: '(led-off)' }, ['d1']), /already registered with other code/);
    const third = prepareLoad(again, { programId: 'blink', version: '1.1.0', source: '(led-off)' }, ['d1']);
    assert.deepEqual(third.publishes.map((p) => p.device), ['d1']);
    const forced = prepareLoad(again, { programId: 'blink', version: '1.1.0', source: '(led-off)' }, ['d1'], { force: true });
    assert.equal(forced.publishes.length, 1);
    assert.equal(prepareLoad(again, { programId: 'blink', version: '1.1.0', source: '(led-off)' }, 'broadcast').publishes[0].topic, 'steel-programs/broadcast/load');
    assert.throws(() => prepareLoad(again, { programId: 'blink', version: '1.1.0', source: '(led-off)' }, ['ok', 'loader']), /cannot address/);
    again.close();
  });
});
