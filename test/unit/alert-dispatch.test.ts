/** Grouping, dedup, timing, resolve, silences and inhibition on a controllable clock (no sleeps). */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { fingerprint, makeAlert, type FleetAlert } from '../../lib/alert-shape';
import { AlertDispatcher, type DispatcherState, type InhibitRule, type Notification } from '../../lib/alerts/dispatcher';
import { InhibitionIndex } from '../../lib/alerts/inhibition';
import { ALERT_LIMITS, checkAlertLimits, checkDeviceTimestamp } from '../../lib/alerts/limits';
import { render } from '../../lib/alerts/message';
import { AlertStore, REDELIVER_GRACE_MS } from '../../lib/alerts/persistence';
import { compileMatcherList, type CompiledMatcher } from '../../lib/alerts/matchers';
import { compileTree, type RouteConfig } from '../../lib/alerts/routes';

const T0 = 1_800_000_000_000;
const S = 1000;
const M = 60 * S;

const matchers = (...texts: string[]): CompiledMatcher[] => {
  const c = compileMatcherList(texts);
  if (!c.ok) throw new Error(c.reason);
  return c.value;
};

function dispatcher(cfg: RouteConfig, inhibit: InhibitRule[] = []): AlertDispatcher {
  const t = compileTree(cfg, ['dashboard', 'email', 'chat']);
  if (!t.ok) throw new Error(t.reason);
  return new AlertDispatcher(t.value, inhibit);
}

const alert = (name: string, device: string, site: string, severity: 'critical' | 'major' | 'warning', endsAt: number | null = null, startsAt = T0): FleetAlert =>
  makeAlert({ name, severity, device, labels: { site }, summary: `${device} ${name}`, startsAt, endsAt, source: 'test' });

/** Runs the clock forward second by second, collecting what flush sends. */
function run(d: AlertDispatcher, from: number, to: number) {
  const out = [];
  for (let t = from; t <= to; t += S) out.push(...d.flush(t));
  return out;
}

describe('alert dispatch: grouping and timing', () => {
  const tree: RouteConfig = { receiver: 'dashboard', group_by: ['alertname', 'site'], group_wait: '30s', group_interval: '5m', repeat_interval: '4h' };

  it('waits group_wait, then sends one notification for the group, not one per alert', () => {
    const d = dispatcher(tree);
    d.receive(alert('DeviceOffline', 'd-1', 'north', 'major'), T0);
    d.receive(alert('DeviceOffline', 'd-2', 'north', 'major'), T0 + 10 * S);
    assert.equal(run(d, T0, T0 + 29 * S).length, 0);
    const [n] = run(d, T0 + 30 * S, T0 + 30 * S);
    assert.deepEqual([n.receiver, n.firing, n.status, n.repeat], ['dashboard', 2, 'firing', false]);
    assert.deepEqual(n.groupLabels, { alertname: 'DeviceOffline', site: 'north' });
  });

  it('deduplicates by fingerprint and stays quiet until repeat_interval', () => {
    const d = dispatcher(tree);
    const a = alert('DeviceOffline', 'd-1', 'north', 'major');
    d.receive(a, T0);
    assert.equal(run(d, T0, T0 + 30 * S).length, 1);
    for (let i = 1; i < 50; i++) d.receive(a, T0 + i * M);
    const later = run(d, T0 + 31 * S, T0 + 4 * 3600 * S + 30 * S);
    assert.equal(later.length, 1, 'one repeat after four hours');
    assert.equal(later[0].repeat, true);
  });

  it('a new alert in the group goes out at the next group_interval, not before', () => {
    const d = dispatcher(tree);
    d.receive(alert('DeviceOffline', 'd-1', 'north', 'major'), T0);
    run(d, T0, T0 + 30 * S);
    d.receive(alert('DeviceOffline', 'd-2', 'north', 'major'), T0 + M);
    assert.equal(run(d, T0 + 31 * S, T0 + 5 * M + 29 * S).length, 0);
    const [n] = run(d, T0 + 5 * M + 30 * S, T0 + 5 * M + 30 * S);
    assert.equal(n.firing, 2);
  });

  it('sends a resolve notification, then forgets the group', () => {
    const d = dispatcher(tree);
    d.receive(alert('DeviceOffline', 'd-1', 'north', 'major'), T0);
    run(d, T0, T0 + 30 * S);
    d.receive(alert('DeviceOffline', 'd-1', 'north', 'major', T0 + 2 * M), T0 + 2 * M);
    const [n] = run(d, T0 + 31 * S, T0 + 5 * M + 30 * S);
    assert.deepEqual([n.status, n.resolved, n.firing], ['resolved', 1, 0]);
    assert.equal(d.groupCount, 0);
  });

  it('an alert resolved within group_wait sends nothing', () => {
    const d = dispatcher(tree);
    d.receive(alert('DeviceOffline', 'd-1', 'north', 'major'), T0);
    d.receive(alert('DeviceOffline', 'd-1', 'north', 'major', T0 + 5 * S), T0 + 5 * S);
    assert.equal(run(d, T0, T0 + 10 * M).length, 0);
  });

  it('groups per route: with continue, each receiver gets its own notification', () => {
    const d = dispatcher({ receiver: 'dashboard', group_by: ['alertname'], routes: [
      { matchers: ['severity=critical'], receiver: 'chat', continue: true },
      { matchers: ['severity=~"critical|major"'], receiver: 'email' },
    ] });
    assert.deepEqual(d.receive(alert('DeviceCritical', 'd-1', 'north', 'critical'), T0), ['chat', 'email']);
    const sent = run(d, T0, T0 + 30 * S);
    assert.deepEqual(sent.map((n) => n.receiver).sort(), ['chat', 'email']);
  });
});

describe('alert dispatch: silences and inhibition', () => {
  const tree: RouteConfig = { receiver: 'dashboard', group_by: ['alertname', 'site'], group_wait: '30s', group_interval: '1m' };

  it('a silence mutes matching alerts until it ends; then they go out', () => {
    const d = dispatcher(tree);
    d.addSilence({ id: 's1', matchers: matchers('site=north'), endsAt: T0 + 10 * M });
    d.receive(alert('DeviceOffline', 'd-1', 'north', 'major'), T0);
    d.receive(alert('DeviceOffline', 'd-2', 'south', 'major'), T0);
    const first = run(d, T0, T0 + 30 * S);
    assert.deepEqual(first.map((n) => n.groupLabels.site), ['south']);
    assert.equal(d.mutedBy(alert('DeviceOffline', 'd-1', 'north', 'major'), T0 + M), 'silence s1');
    assert.equal(run(d, T0 + 31 * S, T0 + 10 * M - S).length, 0);
    const after = run(d, T0 + 10 * M, T0 + 11 * M);
    assert.deepEqual(after.map((n) => n.groupLabels.site), ['north']);
  });

  it('an expired-by-message silence stops muting at once', () => {
    const d = dispatcher(tree);
    d.addSilence({ id: 's1', matchers: matchers('alertname=DeviceOffline'), endsAt: T0 + 3600 * S });
    d.receive(alert('DeviceOffline', 'd-1', 'north', 'major'), T0);
    assert.equal(run(d, T0, T0 + 2 * M).length, 0);
    assert.equal(d.expireSilence('s1'), true);
    assert.equal(run(d, T0 + 2 * M + S, T0 + 4 * M).length, 1);
  });

  it('inhibition: a site-wide broker outage mutes that site\'s device-offline alerts only', () => {
    const rule: InhibitRule = { source: matchers('alertname=BrokerDown'), target: matchers('alertname=DeviceOffline'), equal: ['site'] };
    const d = dispatcher(tree, [rule]);
    d.receive(makeAlert({ name: 'BrokerDown', severity: 'critical', device: null, labels: { site: 'north' }, summary: 'broker down', startsAt: T0, source: 'test' }), T0);
    d.receive(alert('DeviceOffline', 'd-1', 'north', 'major'), T0);
    d.receive(alert('DeviceOffline', 'd-2', 'south', 'major'), T0);
    const sent = run(d, T0, T0 + 30 * S);
    assert.deepEqual(sent.map((n) => `${n.groupLabels.alertname}@${n.groupLabels.site}`).sort(), ['BrokerDown@north', 'DeviceOffline@south']);
    assert.match(d.mutedBy(alert('DeviceOffline', 'd-1', 'north', 'major'), T0)!, /inhibited by BrokerDown/);
    // The outage ends: the muted device alert goes out at the next interval.
    d.receive(makeAlert({ name: 'BrokerDown', severity: 'critical', device: null, labels: { site: 'north' }, summary: 'broker down', startsAt: T0, endsAt: T0 + 2 * M, source: 'test' }), T0 + 2 * M);
    const after = run(d, T0 + 2 * M, T0 + 3 * M);
    assert.ok(after.some((n) => n.groupLabels.alertname === 'DeviceOffline' && n.groupLabels.site === 'north' && n.firing === 1));
  });
});

describe('alert dispatch: quiet hours and escalation', () => {
  it('time intervals: weekdays, times, days of the month, months and a time zone', async () => {
    const { isActive, checkSpec } = await import('../../lib/alerts/time-intervals');
    const at = (iso: string) => Date.parse(iso);
    const working = [{ weekdays: ['monday:friday'], times: [{ start_time: '08:00', end_time: '18:00' }], location: 'Europe/Amsterdam' }];
    assert.equal(isActive(working, at('2026-11-23T07:30:00Z')), true, 'Monday 08:30 in Amsterdam');
    assert.equal(isActive(working, at('2026-11-23T06:30:00Z')), false, 'Monday 07:30 in Amsterdam');
    assert.equal(isActive(working, at('2026-11-22T10:00:00Z')), false, 'Sunday');
    assert.equal(isActive([{ days_of_month: ['-1'] }], at('2026-02-28T12:00:00Z')), true, 'last day of February');
    assert.equal(isActive([{ months: ['december:february'] }], at('2026-01-10T12:00:00Z')), null, 'a wrapping range does not read');
    assert.equal(isActive([{ months: ['november', '12'] }], at('2026-11-10T12:00:00Z')), true);
    assert.deepEqual(checkSpec({ times: [{ start_time: '18:00', end_time: '08:00' }] }).ok, false);
    assert.deepEqual(checkSpec({ location: 'Mars/Olympus' }).ok, false);
  });

  it('a route muted by quiet hours holds its notifications and sends them when the hours end', () => {
    const t = compileTree({ receiver: 'dashboard', group_wait: '30s', group_interval: '1m', routes: [{ matchers: ['severity=warning'], receiver: 'email', mute_time_intervals: ['nights'] }] }, ['dashboard', 'email'], ['nights']);
    if (!t.ok) throw new Error(t.reason);
    const nights = new Map([['nights', [{ times: [{ start_time: '22:00', end_time: '24:00' }, { start_time: '00:00', end_time: '07:00' }] }]]]);
    const d = new AlertDispatcher(t.value, [], nights);
    const night = Date.parse('2026-11-23T23:00:00Z');
    d.receive(makeAlert({ name: 'DeviceDegraded', severity: 'warning', device: 'd-1', summary: 's', startsAt: night, source: 'test' }), night);
    assert.equal(run(d, night, Date.parse('2026-11-24T06:59:00Z')).length, 0);
    const morning = run(d, Date.parse('2026-11-24T07:00:00Z'), Date.parse('2026-11-24T07:02:00Z'));
    assert.deepEqual(morning.map((n) => n.receiver), ['email']);
  });

  it('says which routes are muted right now, so the badge and the dashboard can show quiet hours', () => {
    const t = compileTree({ receiver: 'dashboard', routes: [{ matchers: ['severity=warning'], receiver: 'email', mute_time_intervals: ['nights'] }, { matchers: ['severity=info'], receiver: 'chat', active_time_intervals: ['nights'] }] }, ['dashboard', 'email', 'chat'], ['nights']);
    if (!t.ok) throw new Error(t.reason);
    const nights = new Map([['nights', [{ times: [{ start_time: '22:00', end_time: '24:00' }], location: 'UTC' }]]]);
    const d = new AlertDispatcher(t.value, [], nights);
    assert.deepEqual(d.mutedRoutes(Date.parse('2026-11-23T23:00:00Z')), [{ path: 'route.routes[0]', receiver: 'email' }]);
    assert.deepEqual(d.mutedRoutes(Date.parse('2026-11-23T12:00:00Z')), [{ path: 'route.routes[1]', receiver: 'chat' }]);
  });

  it('escalates a critical alert not acknowledged in time, once; an acknowledged one stays put', () => {
    const t = compileTree({ receiver: 'chat', group_wait: '0s' }, ['chat', 'email']);
    if (!t.ok) throw new Error(t.reason);
    const d = new AlertDispatcher(t.value, [], new Map(), [{ matchers: matchers('severity=critical'), afterMs: 15 * M, receiver: 'email' }]);
    const a = alert('DeviceCritical', 'd-1', 'north', 'critical');
    const b = alert('DeviceCritical', 'd-2', 'north', 'critical');
    d.receive(a, T0);
    d.receive(b, T0);
    assert.equal(d.acknowledge(b.fingerprint), 1);
    const sent = run(d, T0, T0 + 20 * M);
    const escalations = sent.filter((n) => n.escalation);
    assert.deepEqual(escalations.map((n) => [n.receiver, n.alerts.map((x) => x.device), n.at - T0]), [['email', ['d-1'], 15 * M]]);
    assert.equal(d.acknowledge(matchers('device=d-1')), 1);
  });
});

describe('alert dispatch: restart', () => {
  const cfg: RouteConfig = { receiver: 'dashboard', group_by: ['alertname', 'site'], group_wait: '30s', group_interval: '5m', repeat_interval: '4h' };

  it('after a restart nothing already sent is sent again, and a pending notification still goes out', () => {
    const a = dispatcher(cfg);
    a.receive(alert('DeviceOffline', 'd-1', 'north', 'major'), T0);
    assert.equal(run(a, T0, T0 + 30 * S).length, 1);
    a.receive(alert('DeviceOffline', 'd-2', 'south', 'major'), T0 + M);    // pending: its group_wait runs to T0+1m30s
    a.addSilence({ id: 's1', matchers: matchers('site=east'), endsAt: T0 + 3600 * S });
    const records = JSON.parse(JSON.stringify(a.records())) as Array<[string, unknown]>;

    const b = dispatcher(cfg);
    assert.equal(b.load(records, T0 + 2 * M), 0);
    const after = run(b, T0 + 2 * M, T0 + 4 * M);
    assert.deepEqual(after.map((n) => n.groupLabels.site), ['south'], 'only the pending one');
    assert.equal(b.mutedBy(alert('DeviceOffline', 'd-9', 'east', 'major'), T0 + 3 * M), 'silence s1');
    assert.equal(run(b, T0 + 4 * M + S, T0 + 10 * M).length, 0, 'north is not re-sent at its next interval');
  });

  it('alerts of a route a new configuration removed are routed again', () => {
    const a = dispatcher({ receiver: 'dashboard', group_wait: '0s', routes: [{ matchers: ['site=north'], receiver: 'email' }] });
    a.receive(alert('DeviceOffline', 'd-1', 'north', 'major'), T0);
    const records = JSON.parse(JSON.stringify(a.records())) as Array<[string, unknown]>;
    const b = dispatcher({ receiver: 'chat', group_wait: '0s' });
    b.load(records, T0 + S);
    assert.deepEqual(run(b, T0 + S, T0 + 2 * S).map((n) => n.receiver), ['chat']);
  });
});

/** An alert with exactly these labels (as an Alertmanager test writes a model.LabelSet). */
const raw = (labels: Record<string, string>, status: 'firing' | 'resolved' = 'firing'): FleetAlert => ({
  ...makeAlert({ name: labels.alertname ?? 'Test', severity: 'warning', device: null, summary: 's', startsAt: T0, source: 'test' }),
  labels, status, fingerprint: fingerprint(labels),
});
const rule = (source: string[], target: string[], equal: string[]): InhibitRule => ({ source: matchers(...source), target: matchers(...target), equal });

describe('alert dispatch: inhibition as Alertmanager does it', () => {
  it('equal labels: a source inhibits only targets with the same values (from prometheus/alertmanager inhibit/inhibit_test.go TestInhibitRuleHasEqual)', () => {
    const cases: Array<{ sources: Array<Record<string, string>>; equal: string[]; input: Record<string, string>; result: boolean }> = [
      { sources: [], equal: [], input: { a: 'b' }, result: false },                                   // no source alerts at all
      { sources: [{}], equal: [], input: { a: 'b' }, result: true },                                  // no equal labels: any source
      { sources: [{ a: 'b', c: 'd' }, { a: 'b', c: 'f' }], equal: ['a'], input: { a: 'b' }, result: true },
      { sources: [{ a: 'c', c: 'd' }, { a: 'c', c: 'f' }], equal: ['a'], input: { a: 'b' }, result: false }, // equal label differs
    ];
    for (const c of cases) {
      // Source side: the alerts without tgt="1"; target side: the probe, which has it.
      const idx = new InhibitionIndex([rule(['tgt!="1"'], ['tgt="1"'], c.equal)]);
      for (const l of c.sources) idx.add(raw(l));
      assert.equal(idx.inhibitor({ ...c.input, tgt: '1' }) !== null, c.result, JSON.stringify(c));
    }
    // Matching but already resolved: a resolved source leaves the index.
    const idx = new InhibitionIndex([rule(['b=~"f|c"'], ['tgt="1"'], ['a', 'b'])]);
    const gone = [raw({ a: 'b', b: 'f' }), raw({ a: 'b', b: 'c' })];
    for (const a of gone) idx.add(a);
    for (const a of gone) idx.remove(a.fingerprint);
    assert.equal(idx.inhibitor({ a: 'b', b: 'c', tgt: '1' }), null);
  });

  it('two-sided alerts (from inhibit/inhibit_test.go TestInhibitRuleMatches)', () => {
    const idx = new InhibitionIndex([rule(['s1="1"'], ['t1="1"'], ['e']), rule(['s2="1"'], ['t2="1"'], ['e'])]);
    idx.add(raw({ s1: '1', t1: '2', e: '1' }));   // source of rule 1 only
    idx.add(raw({ s2: '1', t2: '1', e: '1' }));   // source and target of rule 2
    const cases: Array<[Record<string, string>, boolean]> = [
      [{ t1: '1', e: '1' }, true],
      [{ t2: '1', e: '1' }, true],
      [{ t1: '1', t3: '1', e: '1' }, true],
      [{ t1: '1', t2: '1', e: '1' }, true],
      [{ t1: '0', e: '1' }, false],
      [{ s1: '1', t1: '1', e: '1' }, true],     // two-sided, but the source of rule 1 is one-sided
      [{ s2: '1', t2: '1', e: '1' }, false],    // two-sided, and so is rule 2's only source: not inhibited
      [{ t1: '1', e: '0' }, false],
    ];
    for (const [labels, muted] of cases) assert.equal(idx.inhibitor(labels) !== null, muted, JSON.stringify(labels));
  });

  it('negative target matchers (from inhibit/inhibit_test.go TestInhibitRuleMatchers)', () => {
    const idx = new InhibitionIndex([rule(['s1="1"'], ['t1!="1"'], ['e']), rule(['s2="1"'], ['t2="1"'], ['e'])]);
    idx.add(raw({ s1: '1', t1: '2', e: '1' }));
    idx.add(raw({ s2: '1', t2: '1', e: '1' }));
    const cases: Array<[Record<string, string>, boolean]> = [
      [{ t1: '1', e: '1' }, false],
      [{ t2: '1', e: '1' }, true],
      [{ t1: '1', t3: '1', e: '1' }, false],
      [{ t1: '1', t2: '1', e: '1' }, true],
      [{ t1: '0', e: '1' }, true],
      [{ s1: '1', t1: '1', e: '1' }, false],
      [{ s2: '1', t2: '1', e: '1' }, true],
      [{ t1: '1', e: '0' }, false],
    ];
    for (const [labels, muted] of cases) assert.equal(idx.inhibitor(labels) !== null, muted, JSON.stringify(labels));
  });

  it('a source mutes while it fires and not after it resolves (from inhibit/inhibit_test.go TestInhibit)', () => {
    const d = dispatcher({ receiver: 'dashboard', group_wait: '0s' }, [rule(['s="1"'], ['t="1"'], ['e'])]);
    const one = raw({ t: '1', e: 'f' });
    d.receive(one, T0);
    assert.equal(d.mutedBy(one, T0), null, 'alertTwo has not fired');
    d.receive(raw({ s: '1', e: 'f' }), T0);
    assert.match(d.mutedBy(one, T0) ?? '', /^inhibited by/);
    assert.equal(d.mutedBy(raw({ s: '1', e: 'f' }), T0), null);
    d.receive(raw({ s: '1', e: 'f' }, 'resolved'), T0 + S);
    assert.equal(d.mutedBy(one, T0 + S), null, 'alertTwo resolved');
  });

  it('an alert matching both sides of a rule is sent: it never inhibits itself (issue 11)', () => {
    const d = dispatcher({ receiver: 'dashboard', group_by: ['alertname', 'site', 'severity'], group_wait: '0s' }, [rule(['severity="critical"'], ['alertname="DeviceOffline"'], ['site'])]);
    d.receive(alert('DeviceOffline', 'd-1', 'north', 'critical'), T0);
    d.receive(alert('DeviceOffline', 'd-2', 'north', 'major'), T0);
    d.receive(alert('DeviceOffline', 'd-3', 'south', 'major'), T0);
    const sent = d.flush(T0);
    assert.deepEqual(sent.map((n) => `${n.groupLabels.severity}@${n.groupLabels.site}`).sort(), ['critical@north', 'major@south']);
  });

  it('a mass outage: every device-offline alert behind a broker outage is muted, the other sites are sent', () => {
    const d = dispatcher({ receiver: 'dashboard', group_by: ['alertname', 'site'], group_wait: '0s' }, [rule(['alertname="BrokerDown"'], ['alertname="DeviceOffline"'], ['site'])]);
    const sites = ['s0', 's1', 's2', 's3'];
    for (const site of sites.slice(0, 3)) d.receive(makeAlert({ name: 'BrokerDown', severity: 'critical', device: null, labels: { site }, summary: 'down', startsAt: T0, source: 'test' }), T0);
    for (let i = 0; i < 4000; i++) d.receive(alert('DeviceOffline', `d-${i}`, sites[i % 4], 'major'), T0);
    const sent = d.flush(T0);
    const offline = sent.filter((n) => n.groupLabels.alertname === 'DeviceOffline');
    assert.deepEqual(offline.map((n) => [n.groupLabels.site, n.firing]), [['s3', 1000]]);
    assert.equal(sent.filter((n) => n.groupLabels.alertname === 'BrokerDown').length, 3);
  });
});

describe('alert dispatch: escalations in one flush are grouped', () => {
  it('16 unacknowledged critical alerts at two sites escalate as one notification per site, not 16', () => {
    const t = compileTree({ receiver: 'chat', group_by: ['alertname', 'site'], group_wait: '0s' }, ['chat', 'email']);
    if (!t.ok) throw new Error(t.reason);
    const d = new AlertDispatcher(t.value, [], new Map(), [{ matchers: matchers('severity=critical'), afterMs: 15 * M, receiver: 'email' }]);
    for (let i = 0; i < 16; i++) d.receive(alert('DeviceCritical', `d-${i}`, i % 2 ? 'north' : 'south', 'critical'), T0);
    d.acknowledge(alert('DeviceCritical', 'd-0', 'south', 'critical').fingerprint);
    const esc = run(d, T0, T0 + 20 * M).filter((n) => n.escalation);
    assert.deepEqual(esc.map((n) => [n.receiver, n.groupLabels.site, n.firing]).sort(), [['email', 'north', 8], ['email', 'south', 7]]);
    assert.notEqual(esc[0].id, esc[1].id);
    assert.match(render(esc[0]).subject, /^\[ESCALATED:[78]\] not acknowledged in 15 min alertname=DeviceCritical site=(north|south)$/);
    assert.equal(run(d, T0 + 20 * M + S, T0 + 40 * M).filter((n) => n.escalation).length, 0, 'once');
  });
});

describe('alert dispatch: idempotency keys and incremental state', () => {
  const cfg: RouteConfig = { receiver: 'dashboard', group_by: ['alertname', 'site'], group_wait: '0s', group_interval: '1m', repeat_interval: '1h' };

  it('a notification has an id that the same history gives again and another notification does not', () => {
    const history = (d: AlertDispatcher): Notification[] => {
      d.receive(alert('DeviceOffline', 'd-1', 'north', 'major'), T0);
      d.receive(alert('DeviceOffline', 'd-2', 'south', 'major'), T0);
      const out = d.flush(T0);
      d.receive(alert('DeviceOffline', 'd-3', 'north', 'major'), T0 + S);
      return [...out, ...run(d, T0 + S, T0 + 2 * M), ...run(d, T0 + 2 * M + S, T0 + 2 * 3600 * S)];
    };
    const a = history(dispatcher(cfg));
    const b = history(dispatcher(cfg));
    assert.ok(a.length >= 4, `${a.length} notifications`);
    assert.deepEqual(a.map((n) => n.id), b.map((n) => n.id));
    assert.equal(new Set(a.map((n) => n.id)).size, a.length);
    const r = render(a[0]);
    assert.deepEqual([r.webhook.idempotencyKey, r.headers['Idempotency-Key']], [a[0].id, a[0].id]);
  });

  it('one new alert among 1,000 changes a handful of records, not the whole state', () => {
    const d = dispatcher(cfg);
    for (let i = 0; i < 1000; i++) d.receive(alert('DeviceOffline', `d-${i}`, `site-${i % 10}`, 'major'), T0);
    d.flush(T0);
    assert.ok(d.takeChanges().length >= 2000);
    d.receive(alert('DeviceOffline', 'd-new', 'site-3', 'major'), T0 + S);
    assert.deepEqual(d.takeChanges().map(([k]) => k[0]).sort(), ['f', 'm']);
    const due = run(d, T0 + S, T0 + M);
    assert.equal(due.length, 1);
    const changed = d.takeChanges();
    assert.ok(changed.length <= 10, `${changed.length} records after one group's flush`);
    assert.ok(changed.every(([, v]) => JSON.stringify(v ?? null).length < 2000), 'a group record does not list its alerts');
  });

  it('records survive a JSON round trip and load into a dispatcher that behaves the same', () => {
    const a = dispatcher(cfg);
    const b = dispatcher(cfg);
    a.addSilence({ id: 's1', matchers: matchers('site=east'), endsAt: T0 + 3600 * S });
    for (let i = 0; i < 30; i++) a.receive(alert('DeviceOffline', `d-${i}`, ['north', 'south', 'east'][i % 3], 'major'), T0);
    run(a, T0, T0 + 10 * S);
    a.receive(alert('DeviceOffline', 'd-0', 'north', 'major', T0 + 20 * S), T0 + 20 * S);
    b.load(JSON.parse(JSON.stringify(a.records())) as Array<[string, unknown]>, T0 + 20 * S);
    assert.equal(b.activeCount, a.activeCount);
    assert.deepEqual(run(b, T0 + 21 * S, T0 + 3 * M).map((n) => n.id), run(a, T0 + 21 * S, T0 + 3 * M).map((n) => n.id));
  });

  it('reads the one-document snapshot of earlier versions once (migration)', () => {
    const old: DispatcherState = {
      v: 1,
      groups: [{ key: 'route{alertname="DeviceOffline",site="north"}', route: 'route', groupLabels: { alertname: 'DeviceOffline', site: 'north' }, alerts: [alert('DeviceOffline', 'd-1', 'north', 'major')], nextFlushAt: T0 + M, lastNotifiedAt: T0, lastSent: 'x' }],
      silences: [{ id: 's1', matchers: [{ name: 'site', op: '=', value: 'east' }], endsAt: T0 + 3600 * S }],
      firing: [{ alert: alert('DeviceOffline', 'd-1', 'north', 'major'), since: T0, acked: false, escalated: [] }],
    };
    const d = dispatcher(cfg);
    d.restore(old, T0 + S);
    assert.equal(d.activeCount, 1);
    assert.equal(d.mutedBy(alert('DeviceOffline', 'd-9', 'east', 'major'), T0 + 2 * S), 'silence s1');
    assert.ok(d.takeChanges().length >= 3, 'everything is written to the new store');
  });

  it('damaged records are counted and skipped, never thrown', () => {
    const d = dispatcher(cfg);
    const damaged = d.load([['f:abc', { alert: 5 }], ['g:x', null], ['m:not json', {}], ['s:q', { id: 'q', matchers: [{ name: 'a', op: '~~', value: '' }], endsAt: 1 }], ['o:zzz', {}]], T0);
    assert.equal(damaged, 4);
    assert.equal(d.activeCount, 0);
  });
});

describe('alert store: journal and outbox (at-least-once with a stable key)', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alert-store-')); });
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });
  const cfg: RouteConfig = { receiver: 'dashboard', group_by: ['alertname', 'site'], group_wait: '0s', group_interval: '1m', repeat_interval: '1h' };

  it('a notification committed but not confirmed is sent again after a restart, with the same id; a confirmed one is not', () => {
    const file = path.join(dir, 'a.jsonl');
    const s1 = AlertStore.open(file);
    const d1 = dispatcher(cfg);
    s1.load(d1, T0);
    d1.receive(alert('DeviceOffline', 'd-1', 'north', 'major'), T0);
    d1.receive(alert('DeviceOffline', 'd-2', 'south', 'major'), T0);
    s1.commit(d1, T0);
    const due = d1.flush(T0);
    assert.equal(due.length, 2);
    s1.commit(d1, T0, due);
    assert.equal(s1.delivered(due[0].id), true);
    s1.commit(d1, T0 + S);
    s1.close(); // a crash: nothing more is written

    const s2 = AlertStore.open(file);
    const d2 = dispatcher(cfg);
    const opened = s2.load(d2, T0 + 2 * S);
    assert.deepEqual(opened.redeliver.map((n) => n.id), [due[1].id]);
    assert.equal(d2.activeCount, 2);
    assert.deepEqual(run(d2, T0 + 2 * S, T0 + 30 * S), [], 'the groups are not sent again as new');
    s2.commit(d2, T0 + 2 * S + REDELIVER_GRACE_MS);
    assert.equal(s2.pendingDeliveries, 0, 'the grace period ends the redelivery');
    s2.close();
    const s3 = AlertStore.open(file);
    assert.equal(s3.load(dispatcher(cfg), T0 + 3 * REDELIVER_GRACE_MS).redeliver.length, 0);
    s3.close();
  });

  it('a clean stop counts what was handed to the flow as sent, unless the flow confirms deliveries', () => {
    for (const confirming of [false, true]) {
      const file = path.join(dir, `stop-${confirming}.jsonl`);
      const s1 = AlertStore.open(file);
      const d1 = dispatcher(cfg);
      s1.load(d1, T0);
      d1.receive(alert('DeviceOffline', 'd-1', 'north', 'major'), T0);
      d1.receive(alert('DeviceOffline', 'd-2', 'south', 'major'), T0);
      const due = d1.flush(T0);
      s1.commit(d1, T0, due);
      if (confirming) s1.delivered(due[0].id);
      s1.stop(d1, T0 + S);
      const s2 = AlertStore.open(file);
      assert.deepEqual(s2.load(dispatcher(cfg), T0 + 2 * S).redeliver.map((n) => n.id), confirming ? [due[1].id] : []);
      assert.equal(s2.confirmsDeliveries, confirming, 'remembered');
      s2.close();
    }
  });

  it('a torn last write loses only that commit', () => {
    const file = path.join(dir, 'b.jsonl');
    const s1 = AlertStore.open(file);
    const d1 = dispatcher(cfg);
    d1.receive(alert('DeviceOffline', 'd-1', 'north', 'major'), T0);
    s1.commit(d1, T0);
    s1.close();
    fs.appendFileSync(file, '{"k":"f:0123","v":{"alert":');
    const s2 = AlertStore.open(file);
    const d2 = dispatcher(cfg);
    s2.load(d2, T0);
    assert.equal(d2.activeCount, 1);
    s2.close();
  });
});

describe('alert limits', () => {
  it('refuse 200 labels, a 1 MiB label and a device time no Date holds, naming the field', () => {
    const many = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`l${i}`, 'v']));
    assert.match(checkAlertLimits(raw(many))?.reason ?? '', new RegExp(`200 labels; at most ${ALERT_LIMITS.labels}`));
    assert.equal(checkAlertLimits(raw({ site: 'x'.repeat(1 << 20) }))?.field, 'payload.labels.site');
    assert.equal(checkAlertLimits(raw({ site: 'north' })), null);
    assert.equal(checkDeviceTimestamp({ timestamp: 9e15 })?.field, 'payload.timestamp');
    assert.equal(checkDeviceTimestamp({ timestamp: Date.now() }), null);
    assert.equal(checkDeviceTimestamp({}), null);
  });
});
