import assert from 'node:assert/strict';

import { exportAlertmanagerYaml, importAlertmanagerYaml } from '../../lib/alerts/alertmanager-yaml';
import { compileTree, matchRoutes } from '../../lib/alerts/routes';

const ALERTMANAGER = `
global:
  smtp_smarthost: 'localhost:25'
route:
  receiver: dashboard
  group_by: [alertname, site]
  group_wait: 30s
  routes:
    - matchers: ['severity="critical"']
      receiver: chat-oncall
      continue: true
    - match:
        site: north
      match_re:
        kind: 'env-.*'
      receiver: email-north
      mute_time_intervals: [nights]
receivers:
  - name: dashboard
  - name: chat-oncall
    slack_configs:
      - channel: '#oncall'
  - name: email-north
    email_configs:
      - to: facilities@example.com
inhibit_rules:
  - source_matchers: [alertname=BrokerDown]
    target_match:
      alertname: DeviceOffline
    equal: [site]
time_intervals:
  - name: nights
    time_intervals:
      - times: [{ start_time: '22:00', end_time: '24:00' }]
templates: ['/etc/alertmanager/*.tmpl']
`;

describe('Alertmanager YAML', () => {
  it('imports the route tree, receivers by name, inhibit rules and time intervals', () => {
    const r = importAlertmanagerYaml(ALERTMANAGER);
    assert.ok(r.ok);
    assert.deepEqual(r.config.receivers, ['dashboard', 'chat-oncall', 'email-north']);
    assert.deepEqual(r.config.route.routes![1].matchers, ['site="north"', 'kind=~"env-.*"']);
    assert.deepEqual(r.config.inhibit_rules[0], { source_matchers: ['alertname=BrokerDown'], target_matchers: ['alertname="DeviceOffline"'], equal: ['site'] });
    assert.equal(r.config.time_intervals[0].name, 'nights');
    const tree = compileTree(r.config.route, r.config.receivers, r.config.time_intervals.map((t) => t.name));
    assert.ok(tree.ok, JSON.stringify(tree));
    assert.deepEqual(matchRoutes(tree.value, { severity: 'critical', site: 'north', kind: 'env-sensor' }).map((x) => x.receiver), ['chat-oncall', 'email-north']);
  });

  it('says which features it does not carry over', () => {
    const r = importAlertmanagerYaml(ALERTMANAGER);
    assert.ok(r.ok);
    assert.ok(r.unsupported.includes('global (whole section)'));
    assert.ok(r.unsupported.includes('templates (whole section)'));
    assert.ok(r.unsupported.some((u) => u.startsWith('receivers[1] (chat-oncall).slack_configs')));
  });

  it('exports what it imported, and the export imports back the same', () => {
    const a = importAlertmanagerYaml(ALERTMANAGER);
    assert.ok(a.ok);
    const text = exportAlertmanagerYaml(a.config);
    assert.match(text, /^route:/m);
    const b = importAlertmanagerYaml(text);
    assert.ok(b.ok);
    assert.deepEqual(b.config, a.config);
    assert.deepEqual(b.unsupported, []);
  });

  it('refuses what is not an Alertmanager configuration, saying why', () => {
    const bad = importAlertmanagerYaml('route: [1, 2');
    assert.ok(!bad.ok && /not valid YAML/.test(bad.reason));
    const noRoute = importAlertmanagerYaml('receivers: []');
    assert.ok(!noRoute.ok && /no `route`/.test(noRoute.reason));
  });
});
