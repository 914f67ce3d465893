/**
 * The audit trail the registry keeps (lib/registry/audit.ts) and how the fleet-command service
 * writes to it: bounded, durable in a journal, results updated as devices answer.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { parseFleetFile } from '../../lib/command/fleet-file';
import { CommandService } from '../../lib/command/service';
import { AuditLog, parseAuditCapacity, parseAuditQuery, readAuditEntry } from '../../lib/registry/audit';
import { Journal } from '../../lib/store/journal';

const FLEET = `fleet:
  name: audit fleet
  devices:
    - { device_id: env_001, site: a }
    - { device_id: env_002, site: a }
    - { device_id: env_003, site: b }
  configuration:
    base:
      network: { wifi_ssid: "Lab", wifi_password: "\${PROD_WIFI_PASSWORD}", mqtt_broker: "broker.local", mqtt_port: 8883, tls_enabled: true }
      sensor: { measurement_interval_seconds: 300 }
`;
const SECRET = 'correct-horse-battery-staple';

describe('command: the audit trail kept by the registry', () => {
  let dir = '';
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-')); });
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  it('keeps the newest entries up to its capacity, in the store as in memory', () => {
    const j = Journal.open(path.join(dir, 'a.jsonl'));
    const log = new AuditLog(j, 10, () => 5000);
    for (let i = 1; i <= 25; i++) log.record({ who: 'op', action: 'command', what: 'reset', target: `env_${i}`, count: 1, result: 'sent' });
    assert.equal(log.size, 10);
    assert.deepEqual(log.entries().map((e) => e.seq), [16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
    assert.equal([...j.keys()].filter((k) => k.startsWith('audit/')).length, 10, 'the store holds no more than the capacity');
    assert.deepEqual(log.entries({ since: 22 }).map((e) => e.target), ['env_23', 'env_24', 'env_25']);
    assert.deepEqual(log.entries({ limit: 2 }).map((e) => e.seq), [24, 25], 'a limit keeps the newest');
    assert.equal(log.entries()[0].at, new Date(5000).toISOString());
    j.close();
  });

  it('survives the journal being reopened, continues its sequence and trims to a lowered capacity', () => {
    const file = path.join(dir, 'b.jsonl');
    let j = Journal.open(file);
    const log = new AuditLog(j, 50);
    const push = log.record({ node: 'n1', actor: 'alice', action: 'config-push', what: 'config push (f)', target: 'a, b', count: 2, result: '2 to push', awaiting: 2 });
    for (let i = 0; i < 9; i++) log.record({ node: 'n1', action: 'emergency', what: 'shutdown', target: 'fleet', count: 3, result: 'sent to 3 devices' });
    assert.equal(log.settle(push.seq, 'a', 'applied'), true);
    assert.equal(log.unwritten, 1, 'a result update is batched');
    log.flush();
    assert.equal(log.unwritten, 0);
    j.close();

    j = Journal.open(file);
    const back = new AuditLog(j, 50);
    assert.equal(back.size, 10);
    const p = back.get(push.seq)!;
    assert.deepEqual([p.who, p.node, p.actor, p.outcome], ['alice', 'n1', 'alice', { pending: 1, applied: 1, rejected: 0, failed: 0, superseded: 0 }]);
    assert.equal(back.settle(push.seq, 'b', 'failed', 'no answer after 3 attempts'), true);
    assert.equal(back.record({ action: 'command', what: 'reset', target: 'x', result: 'sent' }).seq, 11);
    j.close();

    j = Journal.open(file);
    const small = new AuditLog(j, 10);
    assert.equal(small.size, 10);
    assert.equal(small.get(push.seq), undefined, 'the oldest went when the capacity was lowered');
    assert.equal([...j.keys()].length, 10);
    assert.equal(small.record({ action: 'command', what: 'reset', target: 'x', result: 'sent' }).seq, 12);
    j.close();
  });

  it('writes result updates in one commit at the next flush or record; an entry itself at once', () => {
    const file = path.join(dir, 'e.jsonl');
    let j = Journal.open(file);
    let log = new AuditLog(j, 100);
    const e = log.record({ action: 'config-push', what: 'p', target: 'a, b, c', count: 3, result: 'r', awaiting: 3 });
    const commits = j.stats.commits;
    for (const d of ['a', 'b', 'c']) log.settle(e.seq, d, 'applied');
    assert.equal(j.stats.commits, commits, 'no write per answer');
    j.close();
    // A crash before the flush loses the updates, never the entry.
    j = Journal.open(file);
    log = new AuditLog(j, 100);
    assert.equal(log.get(e.seq)!.outcome!.pending, 3);
    for (const d of ['a', 'b']) log.settle(e.seq, d, 'applied');
    log.flush();
    assert.equal(j.stats.commits, 1, 'two answers, one commit');
    log.settle(e.seq, 'c', 'failed', 'no answer');
    log.record({ action: 'command', what: 'reset', target: 'x', result: 'sent' });
    j.close();
    j = Journal.open(file);
    assert.deepEqual(new AuditLog(j, 100).get(e.seq)!.outcome, { pending: 0, applied: 2, rejected: 0, failed: 1, superseded: 0 }, 'the next record wrote it');
    j.close();
  });

  it('a push entry shows each device\'s result as it comes, with the problems named', () => {
    const log = new AuditLog(Journal.open(path.join(dir, 'c.jsonl')), 100);
    const e = log.record({ action: 'config-push', what: 'config push (f)', target: 'a, b, c', count: 3, result: '3 to push, 0 unchanged', awaiting: 3 });
    assert.equal(e.result, '3 to push, 0 unchanged; 3 sent: 3 pending');
    log.settle(e.seq, 'a', 'applied');
    log.settle(e.seq, 'b', 'rejected', 'sensor.bme280_address no sensor');
    log.settle(e.seq, 'c', 'failed', 'no answer');
    const done = log.get(e.seq)!;
    assert.equal(done.result, '3 to push, 0 unchanged; 3 sent: 1 applied, 1 rejected, 1 failed');
    assert.deepEqual(done.problems, [{ device: 'b', state: 'rejected', reason: 'sensor.bme280_address no sensor' }, { device: 'c', state: 'failed', reason: 'no answer' }]);
    assert.ok(done.updatedAt);
    assert.equal(log.settle(e.seq, 'd', 'applied'), false, 'nothing is pending any more');
    assert.equal(log.settle(9999, 'a', 'applied'), false);
  });

  it('reads entries an older release wrote, and skips what is not an entry', () => {
    const j = Journal.open(path.join(dir, 'd.jsonl'));
    j.commit([
      ['audit/000000000001', { seq: 1, at: new Date(0).toISOString(), who: 'ops', action: 'ack', what: 'config v1', target: 'a', result: 'applied' }],
      ['audit/000000000002', { seq: 'x' }],
      ['audit/000000000007', { seq: 3, at: new Date(0).toISOString(), who: 'ops', action: 'command', what: 'reset', target: 'a', result: 'sent' }],
      ['pending/a', { device: 'a' }],
    ]);
    const log = new AuditLog(j, 10);
    assert.equal(log.size, 1);
    assert.equal(log.skipped, 2);
    assert.deepEqual([log.entries()[0].node, log.entries()[0].actor, log.entries()[0].outcome, log.entries()[0].note], [null, null, null, 'applied']);
    assert.equal(readAuditEntry({ seq: 1, at: 'not a date', who: '', action: 'command', what: '', target: '', result: '' }), null);
  });

  it('parses the admin query and the capacity, naming what is wrong', () => {
    assert.deepEqual(parseAuditQuery({}), { ok: true, value: { since: 0, limit: 100 } });
    assert.deepEqual(parseAuditQuery({ since: '7', limit: '5' }), { ok: true, value: { since: 7, limit: 5 } });
    assert.deepEqual(parseAuditQuery({ since: ['1', '2'] }), { ok: false, field: 'since', reason: 'must be a whole number, given once' });
    assert.equal(parseAuditQuery({ limit: '0' }).ok, false);
    assert.equal(parseAuditQuery({ limit: '1001' }).ok, false);
    assert.deepEqual(parseAuditCapacity(''), { ok: true, value: 1000 });
    assert.deepEqual(parseAuditCapacity('25'), { ok: true, value: 25 });
    assert.equal(parseAuditCapacity(5).ok, false);
    assert.equal(parseAuditCapacity('1e3').ok, false);
  });

  describe('written by the fleet-command service', () => {
    const fleet = (() => { const r = parseFleetFile(FLEET); if (!r.ok) throw new Error(r.errors[0].message); return r.fleet; })();
    const journalStore = (j: Journal) => ({ get: (k: string) => j.get(k), keys: () => [...j.keys()], commit: (c: Iterable<readonly [string, unknown]>) => j.commit(c) });

    it('records a push with who, what and when, then each device\'s ack, rejection or timeout; secrets never', () => {
      let now = 1_700_000_000_000;
      const reg = Journal.open(path.join(dir, 'registry.jsonl'));
      const node = Journal.open(path.join(dir, 'node.jsonl'));
      const shared = new AuditLog(reg, 100, () => now);
      const svc = new CommandService(journalStore(node), new Map([['PROD_WIFI_PASSWORD', SECRET]]), { broker: { url: 'mqtts://b:8883' }, ack: { timeoutMs: 1000, retries: 0 }, audit: () => shared }, () => now);
      svc.restore();
      const out = svc.push(fleet, { who: { node: 'cmd1', name: 'commands', actor: `ops (${SECRET})` } });
      assert.equal(out.messages.length, 3);
      const [entry] = shared.entries();
      assert.deepEqual([entry.action, entry.who, entry.node, entry.count, entry.at], ['config-push', 'ops ([redacted])', 'cmd1', 3, new Date(now).toISOString()]);
      assert.equal(entry.what, 'config push (audit fleet)');
      assert.equal(entry.target, 'env_001, env_002, env_003');
      assert.match(entry.result, /3 sent: 3 pending$/);

      now += 10;
      svc.reply('env_001', { config_version: 1, result: 'applied' });
      svc.status('env_002', { config_hash: out.messages[1].payload.config_hash });
      now += 2000;
      svc.tick();
      const done = shared.get(entry.seq)!;
      assert.deepEqual(done.outcome, { pending: 0, applied: 2, rejected: 0, failed: 1, superseded: 0 });
      assert.deepEqual(done.problems.map((p) => [p.device, p.state]), [['env_003', 'failed']]);
      assert.match(done.problems[0].reason, /no answer after 1 attempts/);
      assert.ok(!fs.readFileSync(reg.file, 'utf8').includes(SECRET), 'no secret in the registry journal');
      assert.equal([...node.keys()].filter((k) => k.startsWith('audit/')).length, 0, 'with a registry, the node keeps no trail of its own');

      // A newer push to a pending device supersedes it, in the first push's entry.
      svc.push(fleet, { only: new Set(['env_003']), who: { node: 'cmd1' } });
      svc.push(fleet, { only: new Set(['env_003']), force: 'all', who: { node: 'cmd1' } });
      const [, first, second] = shared.entries();
      assert.deepEqual(first.outcome, { pending: 0, applied: 0, rejected: 0, failed: 0, superseded: 1 });
      assert.equal(second.who, 'node cmd1');
      reg.close();
      node.close();
    });

    it('without a registry keeps the trail in the node\'s own store, across a restart', () => {
      const file = path.join(dir, 'own.jsonl');
      let node = Journal.open(file);
      let svc = new CommandService(journalStore(node), new Map([['PROD_WIFI_PASSWORD', SECRET]]), { broker: { url: 'mqtts://b:8883' } });
      svc.restore();
      svc.push(fleet, { dryRun: true, who: { node: 'cmd1', name: 'commands' } });
      svc.command({ emergency: 'shutdown', scope: { site: 'a' }, confirm: 'shutdown site a' }, { who: { node: 'cmd1', name: 'commands' } });
      assert.equal(svc.auditLog().source, 'node');
      node.close();
      node = Journal.open(file);
      svc = new CommandService(journalStore(node), new Map(), { broker: { url: 'mqtts://b:8883' } });
      svc.restore();
      const entries = svc.auditEntries();
      assert.deepEqual(entries.map((e) => [e.action, e.who, e.count]), [['config-dry-run', 'commands', 0], ['emergency', 'commands', 2]]);
      assert.equal(entries[1].target, 'site a (env_001, env_002)');
      node.close();
    });
  });
});
