/**
 * The virtual firmware's OTA side against the real controller, HTTP and MQTT (test/support/ota-rig.ts):
 * a clean update, and each fault ending where ESP-IDF and the rollout rules say.
 */
import assert from 'node:assert/strict';

import { runRollout } from '../support/ota-rig';

describe('virtual firmware OTA (ota-device.ts) with the controller', function () {
  this.timeout(60_000);

  it('updates every device: download in Range pieces, checks, reboot into the new version, VALID', async () => {
    const r = await runRollout({ devices: 12, imageBytes: 200 * 1024, plan: { waves: [50, 100], concurrency: 4, healthGate: { windowSeconds: 0.05, margin: 10 } } });
    assert.equal(r.summary.status, 'completed');
    assert.equal(r.summary.totals.succeeded, 12);
    for (const d of r.devices) {
      assert.equal(d.firmware, '1.3.0');
      assert.equal(r.agent.imageState(d.id), 'VALID');
      assert.ok(d.restarts >= 1, 'rebooted');
    }
    assert.ok(r.agent.stats.rangeRequests >= 12 * 4, 'a 200 KiB image in 64 KiB pieces');
    assert.deepEqual(r.alerts, []);
  });

  it('each fault ends as it should: checksum and download FAILED, boot failure ROLLED_BACK (ABORTED), silent rollback FAILED with its alert, silence TIMED_OUT', async () => {
    const r = await runRollout({
      devices: 10, stepMs: 5,
      plan: { waves: [100], concurrency: 10, retries: 1, deviceTimeoutSeconds: 1, healthGate: { windowSeconds: 0.6, margin: 10 } },
      faults: [[0, 'bad-checksum'], [1, 'download-failure'], [2, 'boot-failure'], [3, 'silent-rollback'], [4, 'never-answer'], [5, 'download-interrupted'], [6, 'health-worsening']],
    });
    const id = (i: number): string => r.devices[i].id;
    assert.equal(r.phases.get(id(0)), 'FAILED');
    assert.equal(r.phases.get(id(1)), 'FAILED');
    assert.equal(r.phases.get(id(2)), 'ROLLED_BACK');
    assert.equal(r.agent.imageState(id(2)), 'ABORTED');
    assert.equal(r.devices[2].firmware, '1.2.0', 'the old image runs after the rollback');
    assert.equal(r.phases.get(id(3)), 'FAILED');
    assert.ok(r.alerts.includes(`OtaSilentRollback:${id(3)}`));
    assert.equal(r.devices[3].firmware, '1.2.0');
    assert.equal(r.phases.get(id(4)), 'TIMED_OUT');
    assert.equal(r.phases.get(id(5)), 'SUCCEEDED', 'an interrupted download resumes with Range');
    assert.ok(r.agent.stats.resumed >= 1);
    assert.ok(r.devices[6].faults.has('low-heap'), 'health worsens after the update');
    for (const i of [7, 8, 9]) assert.equal(r.phases.get(id(i)), 'SUCCEEDED');
    // Retried once, each failure with a new attempt: 2 commands for the devices that failed.
    assert.equal(r.commands, 10 + 4);
  });
});
