/**
 * The Steel firmware's OTA traffic as routes of the topic map, read by fleet-decode into the reading
 * our own ota/progress/{device} gives, and taken by fleet-ota in that decoded form.
 *
 * Cases from mparkachov/aws-iot-steel aws-iot-core/src/ota_manager.rs: update_status() publishes the
 * whole FirmwareUpdateResult (request_id, status, current_version, target_version, progress_percent,
 * error_message, started_at, completed_at) on `ota/{device_id}/status` with serde's externally tagged
 * FirmwareUpdateStatus; request_pre_signed_url() publishes a PreSignedUrlRequest (request_id,
 * firmware_version, device_id, requested_at) on `downloads/{device_id}/firmware-request`. Request ids
 * are `fw-req-{uuid}` (request_firmware_update); chrono writes times as RFC 3339 with nanoseconds.
 */
import * as assert from 'node:assert/strict';

import { STEEL_OTA_ROUTE } from '../../firmware/contract/ota';
import { KIND, TOPIC_ROUTES, topicFor } from '../../firmware/contract/topics';
import { Decoder, type DecodeResult, type Decoded } from '../../lib/decode/decoder';
import { readInbound } from '../../lib/ota/inbound';

const AT = Date.parse('2026-12-02T10:00:05Z');
const REQUEST = 'fw-req-5b1f0c2e-8d0a-4b8e-9a57-0f5f2b2e9d11';
const DEVICE = 'steel-001';
/** FirmwareUpdateResult as serde_json writes it: f64 0.0 as `0.0`, Option None as null. */
const record = (status: string, extra: Record<string, string> = {}): string =>
  `{"request_id":"${REQUEST}","status":${status},"current_version":"1.0.0","target_version":"1.1.0","progress_percent":0.0,"error_message":null,"started_at":"2026-12-02T10:00:00.123456789Z","completed_at":${extra.completed_at ?? 'null'}}`;

const ok = (r: DecodeResult): Decoded => { if (!r.ok) assert.fail(`${r.reject.code} ${r.reject.path}: ${r.reject.reason}`); return r.value; };
const rejected = (r: DecodeResult) => { if (r.ok) assert.fail(`decoded ${JSON.stringify(r.value.payload)}`); return r.reject; };

describe('contract: the Steel firmware\'s OTA topics are routes (aws-iot-steel ota_manager.rs)', () => {
  it('are in the topic map with their schemas, device kind and direction', () => {
    const status = TOPIC_ROUTES.find((r) => r.id === STEEL_OTA_ROUTE.status);
    const request = TOPIC_ROUTES.find((r) => r.id === STEEL_OTA_ROUTE.firmwareRequest);
    assert.deepEqual([status?.pattern, status?.kind, status?.deviceKind, status?.schema, status?.direction], ['ota/{device}/status', 'ota-progress', KIND.steelDevice, 'steel-ota-status', 'up']);
    assert.deepEqual([request?.pattern, request?.kind, request?.deviceKind, request?.schema, request?.direction], ['downloads/{device}/firmware-request', 'ota-progress', KIND.steelDevice, 'steel-ota-firmware-request', 'up']);
    assert.equal(topicFor(STEEL_OTA_ROUTE.status, { device: DEVICE }), `ota/${DEVICE}/status`);
  });
});

describe('fleet-decode reads the Steel OTA records as ota-progress', () => {
  const d = new Decoder();
  const status = (body: string) => d.decode({ topic: `ota/${DEVICE}/status`, payload: Buffer.from(body), receivedAt: AT });

  it('maps each FirmwareUpdateStatus the manager publishes, bare or tagged', () => {
    const cases: Array<[string, string, Record<string, unknown>]> = [
      ['"Requested"', 'QUEUED', { progress: 0, firmware_version: '1.1.0' }],
      // request_pre_signed_url
      ['"Validating"', 'QUEUED', { progress: 0, firmware_version: '1.1.0' }],
      // handle_pre_signed_url_response
      ['"DownloadRequested"', 'DOWNLOADING', { progress: 0, firmware_version: '1.1.0' }],
      ['{"Downloading":{"progress_percent":42.5}}', 'DOWNLOADING', { progress: 42.5, firmware_version: '1.1.0' }],
      ['"Downloaded"', 'DOWNLOADED', { progress: 100, firmware_version: '1.1.0' }],
      // install_firmware
      ['"Installing"', 'UPDATING', { progress: 0, firmware_version: '1.1.0' }],
      ['"ValidatingInstallation"', 'UPDATING', { progress: 0, firmware_version: '1.1.0' }],
      ['"Installed"', 'UPDATED', { progress: 100, firmware_version: '1.1.0' }],
      ['{"Failed":{"error":"Firmware signature verification failed"}}', 'FAILED', { progress: 0, firmware_version: '1.1.0', reason: 'Firmware signature verification failed' }],
      ['{"Failed":{"error":"Firmware size mismatch: expected 1024, got 1000"}}', 'FAILED', { progress: 0, firmware_version: '1.1.0', reason: 'Firmware size mismatch: expected 1024, got 1000' }],
      // perform_rollback: the device runs current_version again
      ['{"RolledBack":{"reason":"Installation validation failed"}}', 'ROLLED_BACK', { progress: 0, firmware_version: '1.0.0', reason: 'Installation validation failed' }],
    ];
    for (const [s, state, rest] of cases) {
      const v = ok(status(record(s)));
      assert.equal(v.kind, 'ota-progress', s);
      assert.equal(v.route, STEEL_OTA_ROUTE.status);
      assert.deepEqual([v.device.id, v.device.kind], [DEVICE, KIND.steelDevice]);
      assert.deepEqual(v.payload, { job_id: REQUEST, state, ...rest, timestamp: Date.parse('2026-12-02T10:00:00.123Z'), time_source: 'device' }, s);
    }
  });

  it('takes the completion time of a final status (update_status sets completed_at)', () => {
    const v = ok(status(record('"Installed"', { completed_at: '"2026-12-02T10:01:30.5Z"' })));
    assert.equal(v.payload.timestamp, Date.parse('2026-12-02T10:01:30.500Z'));
  });

  it('reads a firmware-request (request_pre_signed_url) as the start of a download, its device_id checked against the topic', () => {
    const body = { request_id: REQUEST, firmware_version: '1.1.0', device_id: DEVICE, requested_at: '2026-12-02T10:00:00.000000001Z' };
    const v = ok(d.decode({ topic: `downloads/${DEVICE}/firmware-request`, payload: Buffer.from(JSON.stringify(body)), receivedAt: AT }));
    assert.equal(v.kind, 'ota-progress');
    assert.equal(v.device.id, DEVICE);
    assert.deepEqual(v.payload, { job_id: REQUEST, state: 'DOWNLOADING', progress: 0, firmware_version: '1.1.0', timestamp: Date.parse('2026-12-02T10:00:00Z'), time_source: 'device' });
    const other = rejected(d.decode({ topic: 'downloads/steel-002/firmware-request', payload: Buffer.from(JSON.stringify(body)), receivedAt: AT }));
    assert.equal(other.code, 'identity-mismatch');
    assert.equal(other.path, '/device_id');
  });

  it('gives the same fields as a decoded ota/progress/{device}, whose timestamp is epoch ms too', () => {
    const steel = ok(status(record('"Installed"'))).payload;
    const ours = ok(d.decode({ topic: `ota/progress/${DEVICE}`, payload: JSON.stringify({ job_id: 'r1-a1', state: 'UPDATED', progress: 100, firmware_version: '1.1.0', timestamp: AT - 5000, v: 1 }), receivedAt: AT })).payload;
    assert.deepEqual(Object.keys(steel).sort(), Object.keys(ours).sort());
    assert.equal(ours.timestamp, AT - 5000);
    assert.equal(ours.time_source, 'device');
  });

  it('rejects what the manager never writes, naming the field', () => {
    const cases: Array<[string, string]> = [
      [record('"Paused"'), '/status'],
      [record('{"Downloading":{"progress_percent":42.0},"Failed":{"error":"x"}}'), '/status'],
      [record('{"Downloading":{}}'), '/status'],
      [record('{"Downloading":{"progress_percent":420.0}}'), '/status'],
      [record('"Installed"').replace('"started_at":"2026-12-02T10:00:00.123456789Z",', ''), '/started_at'],
      [record('"Installed"').replace('2026-12-02T10:00:00.123456789Z', 'yesterday'), '/started_at'],
      [record('"Installed"').replace(`"${REQUEST}"`, '7'), '/request_id'],
    ];
    for (const [body, path] of cases) {
      const r = rejected(status(body));
      assert.equal(r.code, 'schema', body);
      assert.equal(r.path, path, body);
    }
  });

  it('is filtered by a decoder that does not take Steel devices', () => {
    const envOnly = new Decoder({ deviceKinds: [KIND.envSensor] });
    assert.equal(rejected(envOnly.decode({ topic: `ota/${DEVICE}/status`, payload: record('"Installed"'), receivedAt: AT })).code, 'filtered');
  });

  it('does not take over our own ota/update and ota/progress topics', () => {
    assert.equal(ok(d.decode({ topic: `ota/progress/${DEVICE}`, payload: '{"job_id":"j","state":"QUEUED"}', receivedAt: AT })).route, 'ota.progress');
  });
});

describe('fleet-ota takes the decoded form', () => {
  const d = new Decoder();

  it('reads decoded Steel progress like our own', () => {
    const v = ok(d.decode({ topic: `ota/${DEVICE}/status`, payload: record('{"Downloading":{"progress_percent":42.5}}'), receivedAt: AT }));
    const m = readInbound({ topic: `ota/${DEVICE}/status`, kind: v.kind, device: v.device, payload: v.payload });
    assert.equal(m.type, 'progress');
    if (m.type !== 'progress') return;
    assert.equal(m.device, DEVICE);
    assert.deepEqual(m.progress, { ok: true, value: { job_id: REQUEST, state: 'DOWNLOADING', progress: 42.5, firmware_version: '1.1.0', timestamp: Date.parse('2026-12-02T10:00:00.123Z') } });
  });

  it('refuses a Steel record straight from mqtt in, saying to decode it first', () => {
    assert.throws(() => readInbound({ topic: `ota/${DEVICE}/status`, payload: record('"Installed"') }), /pass it through fleet-decode/);
    assert.throws(() => readInbound({ topic: `downloads/${DEVICE}/firmware-request`, payload: '{}' }), /pass it through fleet-decode/);
  });

  it('refuses decoded progress that names no device', () => {
    assert.throws(() => readInbound({ kind: 'ota-progress', device: { id: null }, payload: {} }), /names no device/);
  });
});
