/**
 * The hardening issue's reproductions for fleet-alerts' parsers, each now a field error (or a
 * value) instead of a throw; and the Alertmanager alert shape readAlert takes.
 */
import assert from 'node:assert/strict';

import { parseAlertsConfig } from '../../lib/alerts/config';
import { importAlertmanagerYaml, YAML_LIMITS } from '../../lib/alerts/alertmanager-yaml';
import { loadAlertmanagerConfig } from '../../lib/alerts/alertmanager-config';
import { ALERT_LIMITS, readAlert } from '../../lib/alerts/input';
import { deviceAlert, makeAlert } from '../../lib/alert-shape';
import * as domain from '../../lib/index';

const RECEIVERS = ['dashboard', 'email'];
const NOW = Date.parse('2026-12-01T12:00:00Z');

describe('alert parsers: routing documents never throw', () => {
  const cases: Array<[string, unknown, string, string]> = [
    ['"time_intervals":{}', { route: { receiver: 'dashboard' }, time_intervals: {} }, 'time_intervals', ''],
    ['"inhibit_rules":[null]', { route: { receiver: 'dashboard' }, inhibit_rules: [null] }, 'inhibit_rules[0]', ''],
    ['"escalations":[null]', { route: { receiver: 'dashboard' }, escalations: [null] }, 'escalations[0]', ''],
    ['inhibit_rules: 5', { route: { receiver: 'dashboard' }, inhibit_rules: 5 }, 'inhibit_rules', ''],
    ['"times":5', { route: { receiver: 'dashboard' }, time_intervals: [{ name: 'n', time_intervals: [{ times: 5 }] }] }, 'time_intervals[0]', 'time_intervals[0].times'],
    ['"weekdays":[5]', { route: { receiver: 'dashboard' }, time_intervals: [{ name: 'n', time_intervals: [{ weekdays: [5] }] }] }, 'time_intervals[0]', 'time_intervals[0].weekdays[0]'],
    ['times of the wrong shape', { route: { receiver: 'dashboard' }, time_intervals: [{ name: 'n', time_intervals: [{ times: [{ start_time: 8 }] }] }] }, 'time_intervals[0]', 'time_intervals[0].times[0]'],
    ['an unknown zone', { route: { receiver: 'dashboard' }, time_intervals: [{ name: 'n', time_intervals: [{ location: 'Mars/Olympus' }] }] }, 'time_intervals[0]', 'time_intervals[0].location'],
    ['a time interval named twice', { route: { receiver: 'dashboard' }, time_intervals: [{ name: 'n', time_intervals: [] }, { name: 'n', time_intervals: [] }] }, 'time_intervals[1]', 'name'],
    ['an escalation to nobody', { route: { receiver: 'dashboard' }, escalations: [{ after: '5m', receiver: 7 }] }, 'escalations[0]', 'receiver'],
    ['an inhibit rule with a bad regex', { route: { receiver: 'dashboard' }, inhibit_rules: [{ source_matchers: ['a=~"["'], target_matchers: ['b=c'] }] }, 'inhibit_rules[0]', 'source_matchers[0]'],
    ['a misspelt section', { route: { receiver: 'dashboard' }, inhibit_rule: [] }, 'routing', 'inhibit_rule'],
    ['no route', { inhibit_rules: [] }, 'route', ''],
  ];
  for (const [name, doc, path, field] of cases) {
    it(`${name} → ${path} ${field}`.trim(), () => {
      for (const input of [doc, JSON.stringify(doc)]) {
        const r = parseAlertsConfig(RECEIVERS, input);
        assert.ok(!r.ok, 'refused');
        assert.deepEqual([r.path, r.field], [path, field]);
        assert.ok(r.reason.length > 5);
      }
    });
  }

  it('"location":"" is UTC, as Go\'s time.LoadLocation reads it', () => {
    const r = parseAlertsConfig(RECEIVERS, { route: { receiver: 'dashboard' }, time_intervals: [{ name: 'n', time_intervals: [{ location: '', times: [{ start_time: '00:00', end_time: '24:00' }] }] }] });
    assert.ok(r.ok);
    assert.deepEqual(r.value.timeIntervals.get('n'), [{ location: 'UTC', times: [{ start_time: '00:00', end_time: '24:00' }] }]);
  });

  it('days, months and years may be numbers, as YAML writes them', () => {
    const r = parseAlertsConfig(RECEIVERS, { route: { receiver: 'dashboard' }, time_intervals: [{ name: 'n', time_intervals: [{ days_of_month: [1, '-1'], years: [2026] }] }] });
    assert.ok(r.ok);
    assert.deepEqual(r.value.timeIntervals.get('n'), [{ days_of_month: ['1', '-1'], years: ['2026'] }]);
  });

  it('20,000 nested routes as JSON text: refused for their depth before JSON.parse', () => {
    const text = `{"route":{"receiver":"dashboard",${'"routes":[{'.repeat(20_000)}"receiver":"email"${'}]'.repeat(20_000)}}}`;
    const r = parseAlertsConfig(RECEIVERS, text);
    assert.ok(!r.ok && r.path === 'routing' && /nests more than 256 levels deep/.test(r.reason), JSON.stringify(r));
    const inString = parseAlertsConfig(RECEIVERS, JSON.stringify({ route: { receiver: 'dashboard', routes: [{ matchers: [`x="${'['.repeat(1000)}"`] }] } }));
    assert.ok(inString.ok, 'brackets inside strings are not nesting');
  });

  it('a document longer than the limit is refused before it is parsed', () => {
    const r = parseAlertsConfig(RECEIVERS, `{"route":{"receiver":"dashboard"},"x":"${'a'.repeat(300_000)}"}`);
    assert.ok(!r.ok && r.path === 'routing' && /at most 262144/.test(r.reason));
  });
});

describe('alert parsers: Alertmanager YAML import never throws', () => {
  it('a matcher value that is a mapping ({toString: 1}) is a refusal naming where', () => {
    const r = importAlertmanagerYaml('route: {receiver: a, match: {site: {toString: 1}}}\nreceivers: [{name: a}]\n');
    assert.deepEqual(r, { ok: false, path: 'route.match.site', reason: 'route.match.site: must be text' });
    const k = importAlertmanagerYaml('route: {receiver: a, match: {toString: 1}}\nreceivers: [{name: a}]\n');
    assert.ok(k.ok);
    assert.deepEqual(k.config.route.matchers, ['toString="1"']);
  });
  it('numbers and YAML 1.1 booleans read as Go\'s yaml reads them into Alertmanager\'s fields', () => {
    const r = importAlertmanagerYaml('route:\n  receiver: a\n  routes:\n    - match: {code: 500}\n      continue: yes\n      receiver: a\nreceivers: [{name: a}]\n');
    assert.ok(r.ok);
    assert.deepEqual(r.config.route.routes, [{ receiver: 'a', continue: true, matchers: ['code="500"'] }]);
  });
  it('duplicate keys are refused, as Alertmanager\'s strict loading refuses them', () => {
    const r = importAlertmanagerYaml('route: {receiver: a, receiver: b}\n');
    assert.ok(!r.ok && /key "receiver" is set twice/.test(r.reason), JSON.stringify(r));
  });
  it('40,000 keys in one mapping import in one pass (was quadratic)', () => {
    const text = `route:\n  receiver: a\n  match:\n${Array.from({ length: 10_000 }, (_, i) => `    k${i}: v${i}`).join('\n')}\nreceivers: [{name: a}]\n`;
    const r = importAlertmanagerYaml(text);
    assert.ok(r.ok);
    assert.equal(r.config.route.matchers?.length, 10_000);
  });
  it('text beyond the limit, alias bombs and deep nesting are refusals', () => {
    const long = importAlertmanagerYaml(`# ${'x'.repeat(YAML_LIMITS.length)}\n`);
    assert.ok(!long.ok && /at most 262,144/.test(long.reason));
    const bomb = importAlertmanagerYaml(`a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [${'*a, '.repeat(9)}*a]\nc: &c [${'*b, '.repeat(9)}*b]\nd: [${'*c, '.repeat(9)}*c]\nroute: {receiver: r}\n`);
    assert.ok(!bomb.ok, 'alias expansion is bounded');
    const deep = importAlertmanagerYaml(`route: ${'{receiver: a, routes: ['.repeat(100)}{}${']}'.repeat(100)}\n`);
    assert.ok(!deep.ok && /deeper than 64/.test(deep.reason));
  });
});

describe('alert parsers: the one entry point from Alertmanager YAML', () => {
  it('loadAlertmanagerConfig checks what it imports and says what it leaves out', () => {
    const r = loadAlertmanagerConfig('route:\n  receiver: a\n  routes:\n    - matchers: [\'{owner="team-A", env=~"prod.*"}\']\n      receiver: b\nreceivers:\n  - name: a\n  - name: b\n    webhook_configs: [{url: "http://x"}]\n');
    assert.ok(r.ok);
    assert.deepEqual(r.receivers, ['a', 'b']);
    assert.equal(r.value.tree.routes[0].matchers.length, 2);
    assert.ok(r.unsupported.some((u) => u.startsWith('receivers[1] (b).webhook_configs')));
    const bad = loadAlertmanagerConfig('route:\n  receiver: a\n  routes: [{receiver: nobody}]\nreceivers: [{name: a}]\n');
    assert.deepEqual(bad.ok ? null : [bad.path, bad.field], ['route.routes[0]', 'receiver']);
  });
  it('is exported from the package entry with the rest of the domain API, and the simulator is not', () => {
    for (const name of ['loadAlertmanagerConfig', 'parseAlertsConfig', 'importAlertmanagerYaml', 'readAlert', 'makeAlert', 'compileTree', 'matchRoutes', 'AlertDispatcher', 'Decoder', 'FleetRegistry', 'HealthTracker', 'ALERT_LIMITS']) {
      assert.ok(name in domain, name);
    }
    assert.ok(!('VirtualFleet' in domain) && !('VirtualDevice' in domain));
  });
});

describe('alert parsers: alerts from flows', () => {
  it('startsAt: 1e20 is a field error, not a RangeError', () => {
    assert.deepEqual(readAlert({ name: 'A', severity: 'critical', summary: 's', startsAt: 1e20 }, NOW), { ok: false, field: 'payload.startsAt', reason: 'must be a time (ISO 8601 or epoch ms) between 1970 and 9999' });
    const r = readAlert({ name: 'A', severity: 'critical', summary: 's', endsAt: '+275760-09-13T00:00:00.000Z' }, NOW);
    assert.ok(!r.ok && r.field === 'payload.endsAt');
  });
  it('a device alert with a clock far off keeps the alert, timed at receipt', () => {
    const a = deviceAlert('d-1', { severity: 'critical', message: 'm', timestamp: 9e15 }, {}, NOW);
    assert.equal(a.startsAt, new Date(NOW).toISOString());
  });
  it('label counts and sizes are bounded with field errors', () => {
    const many = Object.fromEntries(Array.from({ length: ALERT_LIMITS.labels + 1 }, (_, i) => [`l${i}`, 'v']));
    assert.equal(readAlert({ name: 'A', severity: 'critical', summary: 's', labels: many }, NOW).ok, false);
    const long = readAlert({ name: 'A', severity: 'critical', summary: 's', labels: { site: 'x'.repeat(ALERT_LIMITS.labelValueLength + 1) } }, NOW);
    assert.ok(!long.ok && long.field === 'payload.labels.site');
    const name = readAlert({ labels: { ['n'.repeat(ALERT_LIMITS.labelNameLength + 1)]: 'v' } }, NOW);
    assert.ok(!name.ok && name.field === 'payload.labels');
    assert.equal(readAlert({ name: 'A', severity: 'critical', summary: 's', labels: { site: 5 } }, NOW).ok, false);
  });
  it('an Alertmanager alert: the labels are the identity, any severity or none', () => {
    const r = readAlert({ labels: { alertname: 'HighLatency', severity: 'page', service: 'api' }, annotations: { summary: 'p99 over 1s' }, startsAt: '2026-12-01T11:00:00Z', generatorURL: 'http://prom/graph' }, NOW);
    assert.ok(r.ok);
    assert.deepEqual(r.value.labels, { alertname: 'HighLatency', severity: 'page', service: 'api' });
    assert.deepEqual([r.value.name, r.value.severity, r.value.summary, r.value.status, r.value.startsAt, r.value.device], ['HighLatency', 'page', 'p99 over 1s', 'firing', '2026-12-01T11:00:00.000Z', null]);
    const bare = readAlert({ labels: { job: 'node', instance: 'h:9100' } }, NOW);
    assert.ok(bare.ok);
    assert.deepEqual(bare.value.labels, { job: 'node', instance: 'h:9100' });
    assert.equal(bare.value.name, '');
  });
  it('an Alertmanager alert with endsAt in the past is resolved; Go\'s zero time is "not set"', () => {
    // as in Alertmanager's api/v2 postAlertsHandler: no startsAt but an endsAt, and endsAt is the start
    const r = readAlert({ labels: { alertname: 'A' }, startsAt: '0001-01-01T00:00:00Z', endsAt: '2026-12-01T11:59:00Z' }, NOW);
    assert.ok(r.ok);
    assert.deepEqual([r.value.status, r.value.startsAt, r.value.endsAt], ['resolved', '2026-12-01T11:59:00.000Z', '2026-12-01T11:59:00.000Z']);
    const bad = readAlert({ labels: { alertname: 'A' }, startsAt: '2026-12-01T11:00:00Z', endsAt: '2026-12-01T10:00:00Z' }, NOW);
    assert.ok(!bad.ok && bad.field === 'payload.endsAt');
  });
  it('our own alerts keep their fingerprints; any severity text is taken', () => {
    const ours = makeAlert({ name: 'DeviceOffline', severity: 'major', device: 'd-1', labels: { site: 'north' }, summary: 's', startsAt: NOW, source: 'fleet-health' });
    const read = readAlert({ name: 'DeviceOffline', severity: 'major', device: 'd-1', labels: { site: 'north', severity: 'ignored' }, summary: 's' }, NOW);
    assert.ok(read.ok);
    assert.equal(read.value.fingerprint, ours.fingerprint);
    // the same identity from Alertmanager's shape: the same fingerprint
    const am = readAlert({ labels: { alertname: 'DeviceOffline', severity: 'major', device: 'd-1', site: 'north' } }, NOW);
    assert.ok(am.ok && am.value.fingerprint === ours.fingerprint);
    assert.ok(readAlert({ name: 'A', severity: 'P1', summary: 's' }, NOW).ok);
  });
  it('a label named __proto__ is a label, never a prototype', () => {
    const r = readAlert(JSON.parse('{"labels":{"alertname":"A","__proto__":"x"}}'), NOW);
    assert.ok(r.ok);
    assert.equal(Object.getPrototypeOf(r.value.labels), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(r.value.labels, '__proto__')?.value, 'x');
  });
});
