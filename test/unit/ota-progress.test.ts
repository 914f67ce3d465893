import * as assert from 'node:assert/strict';

import { parseProgress } from '../../lib/ota/progress';
import { parseSteelFirmwareRequest, parseSteelStatus } from '../../lib/ota/steel';

describe('ota progress', () => {
  it('reads the contract examples (schemas/v1/ota-progress.json)', () => {
    assert.deepEqual(parseProgress('{"job_id":"rollout-7-wave-1","state":"DOWNLOADING","progress":42.5}'), { ok: true, value: { job_id: 'rollout-7-wave-1', state: 'DOWNLOADING', progress: 42.5 } });
    assert.deepEqual(parseProgress({ job_id: 'rollout-7-wave-1', state: 'FAILED', reason: 'sha256 mismatch' }), { ok: true, value: { job_id: 'rollout-7-wave-1', state: 'FAILED', reason: 'sha256 mismatch' } });
  });

  it('names the field at fault', () => {
    const cases: Array<[unknown, string]> = [
      [{ state: 'QUEUED' }, 'job_id'], [{ job_id: 'j', state: 'DONE' }, 'state'], [{ job_id: 'j', state: 'QUEUED', progress: 101 }, 'progress'],
      [{ job_id: 'j', state: 'QUEUED', firmware_version: '' }, 'firmware_version'], [{ job_id: 'j', state: 'QUEUED', timestamp: -1 }, 'timestamp'],
      ['nope', 'payload'], [[1], 'payload'], [{ job_id: 'j', state: 'QUEUED', v: 2 }, 'v'], [{ job_id: 'x'.repeat(65), state: 'QUEUED' }, 'job_id'],
    ];
    for (const [input, field] of cases) assert.equal((parseProgress(input) as { field: string }).field, field, JSON.stringify(input));
  });
});

// Payload shapes from mparkachov/aws-iot-steel aws-iot-core/src/ota_manager.rs: FirmwareUpdateResult
// serialised by serde (update_status publishes it on ota/{id}/status), FirmwareUpdateStatus externally
// tagged, and PreSignedUrlRequest on downloads/{id}/firmware-request.
describe('ota progress from the Steel firmware (aws-iot-steel ota_manager.rs)', () => {
  const record = (status: unknown, extra: Record<string, unknown> = {}) => ({
    request_id: 'fw-req-5b1f0c2e-8d0a-4b8e-9a57-0f5f2b2e9d11', status, current_version: '1.0.0', target_version: '1.1.0',
    progress_percent: 0.0, error_message: null, started_at: '2026-12-02T10:00:00Z', completed_at: null, ...extra,
  });

  it('maps every FirmwareUpdateStatus variant onto our states', () => {
    const state = (s: unknown) => {
      const r = parseSteelStatus(record(s));
      return r.ok ? r.value.state : `${r.field}: ${r.reason}`;
    };
    assert.equal(state('Requested'), 'QUEUED');
    assert.equal(state('Validating'), 'QUEUED');
    assert.equal(state('DownloadRequested'), 'DOWNLOADING');
    assert.equal(state({ Downloading: { progress_percent: 42.0 } }), 'DOWNLOADING');
    assert.equal(state('Downloaded'), 'DOWNLOADED');
    assert.equal(state('Installing'), 'UPDATING');
    assert.equal(state('ValidatingInstallation'), 'UPDATING');
    assert.equal(state('Installed'), 'UPDATED');
    assert.equal(state({ Failed: { error: 'Firmware signature verification failed' } }), 'FAILED');
    assert.equal(state({ RolledBack: { reason: 'Installation validation failed' } }), 'ROLLED_BACK');
  });

  it('carries progress, reason, version and time across', () => {
    const dl = parseSteelStatus(JSON.stringify(record({ Downloading: { progress_percent: 42.0 } })));
    assert.deepEqual(dl, { ok: true, value: { job_id: 'fw-req-5b1f0c2e-8d0a-4b8e-9a57-0f5f2b2e9d11', state: 'DOWNLOADING', progress: 42, firmware_version: '1.1.0', timestamp: Date.parse('2026-12-02T10:00:00Z') } });
    const failed = parseSteelStatus(record({ Failed: { error: 'Firmware size mismatch: expected 10, got 9' } }, { completed_at: '2026-12-02T10:05:00Z' }));
    assert.equal(failed.ok && failed.value.reason, 'Firmware size mismatch: expected 10, got 9');
    assert.equal(failed.ok && failed.value.timestamp, Date.parse('2026-12-02T10:05:00Z'));
    const back = parseSteelStatus(record({ RolledBack: { reason: 'Installation validation failed' } }));
    assert.equal(back.ok && back.value.firmware_version, '1.0.0', 'after a rollback the device runs current_version');
    const installed = parseSteelStatus(record('Installed'));
    assert.equal(installed.ok && installed.value.firmware_version, '1.1.0');
    assert.equal(installed.ok && installed.value.progress, 100);
  });

  it('reads the firmware-request as the start of a download', () => {
    const r = parseSteelFirmwareRequest({ request_id: 'fw-req-1', firmware_version: '1.1.0', device_id: 'steel-01', requested_at: '2026-12-02T10:00:00Z' });
    assert.deepEqual(r, { ok: true, value: { job_id: 'fw-req-1', state: 'DOWNLOADING', progress: 0, firmware_version: '1.1.0', timestamp: Date.parse('2026-12-02T10:00:00Z') } });
  });

  it('refuses what is not that firmware\'s record, naming the field', () => {
    const field = (x: unknown) => (parseSteelStatus(x) as { field: string }).field;
    assert.equal(field(record('Exploded')), 'status');
    assert.equal(field(record({ Downloading: 5 })), 'status.Downloading');
    assert.equal(field(record({ A: {}, B: {} })), 'status');
    assert.equal(field(record({ Downloading: { progress_percent: 420 } })), 'status.Downloading.progress_percent');
    assert.equal(field({ ...record('Installed'), request_id: 7 }), 'request_id');
    assert.equal(field('{'), 'payload');
    assert.equal((parseSteelFirmwareRequest({ firmware_version: '1' }) as { field: string }).field, 'request_id');
  });
});
