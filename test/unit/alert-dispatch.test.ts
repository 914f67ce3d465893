/** Grouping, dedup, timing, resolve, silences and inhibition on a controllable clock (no sleeps). */
import assert from 'node:assert/strict';

import { makeAlert, type FleetAlert } from '../../lib/health/alert';
import { AlertDispatcher, type InhibitRule } from '../../lib/alerts/dispatcher';
import { compileMatcher, parseMatcher, type CompiledMatcher } from '../../lib/alerts/matchers';
import { compileTree, type RouteConfig } from '../../lib/alerts/routes';

const T0 = 1_800_000_000_000;
const S = 1000;
const M = 60 * S;

const matchers = (...texts: string[]): CompiledMatcher[] => texts.map((t) => {
  const p = parseMatcher(t);
  if (!p.ok) throw new Error(p.reason);
  const c = compileMatcher(p.value);
  if (!c.ok) throw new Error(c.reason);
  return c.value;
});

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
    assert.deepEqual(escalations.map((n) => [n.receiver, n.alerts[0].device, n.at - T0]), [['email', 'd-1', 15 * M]]);
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
    const state = JSON.parse(JSON.stringify(a.snapshot()));

    const b = dispatcher(cfg);
    b.restore(state, T0 + 2 * M);
    const after = run(b, T0 + 2 * M, T0 + 4 * M);
    assert.deepEqual(after.map((n) => n.groupLabels.site), ['south'], 'only the pending one');
    assert.equal(b.mutedBy(alert('DeviceOffline', 'd-9', 'east', 'major'), T0 + 3 * M), 'silence s1');
    assert.equal(run(b, T0 + 4 * M + S, T0 + 10 * M).length, 0, 'north is not re-sent at its next interval');
  });

  it('alerts of a route a new configuration removed are routed again', () => {
    const a = dispatcher({ receiver: 'dashboard', group_wait: '0s', routes: [{ matchers: ['site=north'], receiver: 'email' }] });
    a.receive(alert('DeviceOffline', 'd-1', 'north', 'major'), T0);
    const state = JSON.parse(JSON.stringify(a.snapshot()));
    const b = dispatcher({ receiver: 'chat', group_wait: '0s' });
    b.restore(state, T0 + S);
    assert.deepEqual(run(b, T0 + S, T0 + 2 * S).map((n) => n.receiver), ['chat']);
  });
});
