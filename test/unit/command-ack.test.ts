import assert from 'node:assert/strict';

import { AckTracker } from '../../lib/command/ack';

const push = (device: string, version: number) => ({ device, version, hash: `${String(version).padStart(16, '0')}`, requestId: `push-${device}-${version}` });

describe('command: acknowledgement', () => {
  it('a reply naming the push marks it applied; one naming another push does not', () => {
    const t = new AckTracker({ timeoutMs: 1000, retries: 1 });
    t.start(push('a', 3), 0);
    assert.equal(t.reply('a', { config_version: 2, result: 'applied' }, 10), null, 'a late answer to version 2 settled version 3');
    assert.equal(t.reply('a', { result: 'applied' }, 10), null, 'an answer naming nothing settled the push');
    const r = t.reply('a', { config_version: 3, result: 'applied' }, 20);
    assert.equal(r?.state, 'applied');
    assert.equal(r?.via, 'reply');
    assert.equal(r?.doneAt, 20);
  });

  it('a rejection keeps the device reason', () => {
    const t = new AckTracker();
    t.start(push('a', 1), 0);
    assert.deepEqual([t.reply('a', { request_id: 'push-a-1', result: 'rejected', reason: 'sensor.bme280_address: no sensor' }, 5)?.state, t.result('a')?.reason], ['rejected', 'sensor.bme280_address: no sensor']);
  });

  it('the next status carrying the new version or hash marks it applied', () => {
    const t = new AckTracker();
    t.start(push('a', 4), 0);
    t.start(push('b', 4), 0);
    assert.equal(t.status('a', { config_version: 3 }, 1), null);
    assert.equal(t.status('a', { config_version: 4 }, 2)?.via, 'status');
    assert.equal(t.status('b', { config_hash: push('b', 4).hash }, 2)?.state, 'applied');
  });

  it('re-sends after the timeout, then fails after the retries; summary per state', () => {
    const t = new AckTracker({ timeoutMs: 1000, retries: 2 });
    t.start(push('a', 1), 0);
    t.start(push('b', 1), 0);
    t.reply('b', { config_version: 1, result: 'applied' }, 100);
    assert.deepEqual(t.tick(999), { resend: [], failed: [] });
    assert.deepEqual(t.tick(1000).resend.map((r) => [r.device, r.attempts]), [['a', 2]]);
    assert.equal(t.nextDeadline(), 2000);
    assert.deepEqual(t.tick(2000).resend.map((r) => r.attempts), [3]);
    const end = t.tick(3000);
    assert.deepEqual(end.failed.map((r) => [r.device, r.state, r.attempts]), [['a', 'failed', 3]]);
    assert.match(end.failed[0].reason!, /no answer after 3 attempts/);
    assert.equal(t.nextDeadline(), null);
    assert.deepEqual(t.summary(), { total: 2, pending: 0, applied: 1, rejected: 0, failed: 1, superseded: 0 });
  });

  it('a newer push supersedes a pending one', () => {
    const t = new AckTracker();
    t.start(push('a', 1), 0);
    assert.equal(t.start(push('a', 2), 5)?.state, 'superseded');
    assert.equal(t.reply('a', { config_version: 1, result: 'applied' }, 6), null);
    assert.equal(t.result('a')?.version, 2);
  });
});
