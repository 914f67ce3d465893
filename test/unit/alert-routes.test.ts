/**
 * Routing tree semantics case by case, in the manner of Alertmanager's own route tests: which
 * receivers an alert with given labels reaches, what each route inherits, and how groups are keyed.
 */
import assert from 'node:assert/strict';

import { loadAlertmanagerConfig } from '../../lib/alerts/alertmanager-config';
import { compileMatcher, parseMatcher } from '../../lib/alerts/matchers';
import { compileTree, formatDuration, groupKey, matchRoutes, parseDuration, type Route, type RouteConfig } from '../../lib/alerts/routes';

const RECEIVERS = ['dashboard', 'email-facilities', 'chat-oncall', 'email-north', 'pager', 'audit'];

/** The tree a building manager might run. */
const TREE: RouteConfig = {
  receiver: 'dashboard',
  group_by: ['alertname', 'site'],
  routes: [
    { matchers: ['severity="critical"'], receiver: 'chat-oncall', continue: true, group_wait: '10s' },
    {
      matchers: ['site=~"north|north-annex"'], receiver: 'email-north', group_by: ['alertname', 'device'],
      routes: [
        { matchers: ['severity=critical'], receiver: 'pager', repeat_interval: '1h' },
        { matchers: ['kind!=audio-device', 'alertname!~Device(Degraded|Offline)'], receiver: 'audit' },
      ],
    },
    { matchers: ['severity=~"critical|major"'], receiver: 'email-facilities', group_by: ['...'] },
  ],
};

function tree(cfg: RouteConfig = TREE): Route {
  const r = compileTree(cfg, RECEIVERS);
  if (!r.ok) throw new Error(`${r.path}.${r.field}: ${r.reason}`);
  return r.value;
}

const receivers = (labels: Record<string, string>, t = tree()) => matchRoutes(t, labels).map((r) => r.receiver);

describe('alert routing: matchers', () => {
  const test = (text: string, labels: Record<string, string>) => {
    const p = parseMatcher(text);
    if (!p.ok) throw new Error(p.reason);
    const c = compileMatcher(p.value);
    if (!c.ok) throw new Error(c.reason);
    return c.value.test(labels);
  };
  it('=, != on values, with or without quotes', () => {
    assert.equal(test('severity=critical', { severity: 'critical' }), true);
    assert.equal(test('severity="critical"', { severity: 'critical' }), true);
    assert.equal(test('severity!=critical', { severity: 'warning' }), true);
    assert.equal(test('severity!=critical', { severity: 'critical' }), false);
  });
  it('regexes are anchored at both ends', () => {
    assert.equal(test('site=~north', { site: 'north' }), true);
    assert.equal(test('site=~north', { site: 'northeast' }), false);
    assert.equal(test('site=~"north.*"', { site: 'northeast' }), true);
    assert.equal(test('site!~"north|south"', { site: 'south' }), false);
  });
  it('a missing label matches as the empty string', () => {
    assert.equal(test('site=""', {}), true);
    assert.equal(test('site!=""', {}), false);
    assert.equal(test('site=~".*"', {}), true);
  });
  it('names what is wrong with a bad matcher or regex', () => {
    assert.equal(parseMatcher('no operator').ok, false);
    // Alertmanager's UTF-8 parser takes any name, `1abc` too; an operator is still needed.
    assert.equal(parseMatcher('1abc=x').ok, true);
    assert.equal(parseMatcher('a b=x').ok, false);
    const c = compileMatcher({ name: 'x', op: '=~', value: '(' });
    assert.ok(!c.ok && /does not compile/.test(c.reason));
  });
});

describe('alert routing: the tree', () => {
  it('an alert no child takes goes to the default route', () => {
    assert.deepEqual(receivers({ alertname: 'DeviceDegraded', severity: 'warning', site: 'south' }), ['dashboard']);
  });

  it('a matching child takes the alert; with continue, the next siblings are tried too', () => {
    assert.deepEqual(receivers({ alertname: 'DeviceCritical', severity: 'critical', site: 'south' }), ['chat-oncall', 'email-facilities']);
  });

  it('without continue, a matching child stops its siblings', () => {
    // north takes it; the critical|major route after it is not tried.
    assert.deepEqual(receivers({ alertname: 'DeviceOffline', severity: 'major', site: 'north' }), ['email-north']);
  });

  it('nested routes: the deepest matching route takes the alert', () => {
    assert.deepEqual(receivers({ alertname: 'DeviceCritical', severity: 'critical', site: 'north-annex' }), ['chat-oncall', 'pager']);
    assert.deepEqual(receivers({ alertname: 'DeviceReported', severity: 'warning', site: 'north', kind: 'env-monitor' }), ['audit']);
    assert.deepEqual(receivers({ alertname: 'DeviceDegraded', severity: 'warning', site: 'north', kind: 'env-monitor' }), ['email-north']);
  });

  it('children inherit group_by and timings unless they set them; Alertmanager\'s defaults at the root', () => {
    const t = tree();
    assert.deepEqual([t.groupWaitMs, t.groupIntervalMs, t.repeatIntervalMs], [30_000, 300_000, 14_400_000]);
    const [critical, north, major] = t.routes;
    assert.equal(critical.groupWaitMs, 10_000);
    assert.deepEqual(critical.groupBy, ['alertname', 'site']);
    assert.deepEqual(north.routes[0].groupBy, ['alertname', 'device']);
    assert.equal(north.routes[0].repeatIntervalMs, 3_600_000);
    assert.equal(north.routes[1].repeatIntervalMs, 14_400_000);
    assert.equal(major.groupBy, 'all');
  });

  it('group keys: the route and its group_by label values', () => {
    const t = tree();
    const labels = { alertname: 'DeviceOffline', site: 'south', device: 'd-1', severity: 'major' };
    const [route] = matchRoutes(t, labels);
    assert.equal(groupKey(route, labels), 'route.routes[2]{alertname="DeviceOffline",device="d-1",severity="major",site="south"}');
    assert.equal(groupKey(t, labels), 'route{alertname="DeviceOffline",site="south"}');
    assert.equal(groupKey(t, { alertname: 'DeviceOffline', site: 'south', device: 'd-2' }), groupKey(t, labels), 'one group for the site');
  });
});

describe('alert routing: refusing a bad tree, naming route and field', () => {
  const cases: Array<[unknown, string, string]> = [
    [{}, 'route', 'receiver'],
    [{ receiver: 'nobody' }, 'route', 'receiver'],
    [{ receiver: 'dashboard', matchers: ['a=b'] }, 'route', 'matchers'],
    [{ receiver: 'dashboard', continue: true }, 'route', 'continue'],
    [{ receiver: 'dashboard', routes: [{ receiver: 'pagerx' }] }, 'route.routes[0]', 'receiver'],
    [{ receiver: 'dashboard', routes: [{ matchers: ['severity critical'] }] }, 'route.routes[0]', 'matchers[0]'],
    [{ receiver: 'dashboard', routes: [{ matchers: ['site=~"("'] }] }, 'route.routes[0]', 'matchers[0]'],
    [{ receiver: 'dashboard', routes: [{ routes: [{ group_wait: 'soon' }] }] }, 'route.routes[0].routes[0]', 'group_wait'],
    [{ receiver: 'dashboard', group_interval: '0s' }, 'route', 'group_interval'],
    [{ receiver: 'dashboard', group_by: ['...', 'site'] }, 'route', 'group_by'],
    [{ receiver: 'dashboard', routes: [{ mute_time_intervals: ['nights'] }] }, 'route.routes[0]', 'mute_time_intervals'],
    [{ receiver: 'dashboard', routes: [{ match: { a: 'b' } }] }, 'route.routes[0]', 'match'],
  ];
  for (const [cfg, path, field] of cases) {
    it(`${JSON.stringify(cfg)} → ${path} ${field}`, () => {
      const r = compileTree(cfg, RECEIVERS);
      assert.ok(!r.ok);
      assert.deepEqual([r.path, r.field], [path, field]);
      assert.ok(r.reason.length > 5);
    });
  }
});

describe('alert routing: durations', () => {
  it('reads and writes Prometheus durations', () => {
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('5 minutes'), null);
    assert.equal(formatDuration(5_400_000), '1h30m');
    assert.equal(formatDuration(14_400_000), '4h');
  });
});

describe('alert routing: Alertmanager\'s own route test', () => {
  // from prometheus/alertmanager dispatch/route_test.go (TestRouteMatch): the same tree, imported
  // from its YAML, routes each label set to the same receivers with the same options.
  const YAML_TREE = `
route:
  receiver: 'notify-def'
  routes:
  - match:
      owner: 'team-A'
    receiver: 'notify-A'
    routes:
    - match:
        env: 'testing'
      receiver: 'notify-testing'
      group_by: [...]
    - match:
        env: "production"
      receiver: 'notify-productionA'
      group_wait: 1m
      continue: true
    - match_re:
        env: "produ.*"
        job: ".*"
      receiver: 'notify-productionB'
      group_wait: 30s
      group_interval: 5m
      repeat_interval: 1h
      group_by: ['job']
  - match_re:
      owner: 'team-(B|C)'
    group_by: ['foo', 'bar']
    group_wait: 2m
    receiver: 'notify-BC'
  - match:
      group_by: 'role'
    group_by: ['role']
    routes:
    - match:
        env: 'testing'
      receiver: 'notify-testing'
      routes:
      - match:
          wait: 'long'
        group_wait: 2m
receivers: [{name: notify-def}, {name: notify-A}, {name: notify-testing}, {name: notify-productionA}, {name: notify-productionB}, {name: notify-BC}]
`;
  const t = loadAlertmanagerConfig(YAML_TREE);
  if (!t.ok) throw new Error(t.reason);
  const opts = (labels: Record<string, string>) => matchRoutes(t.value.tree, labels).map((r) => ({ receiver: r.receiver, groupBy: r.groupBy, wait: r.groupWaitMs, interval: r.groupIntervalMs, repeat: r.repeatIntervalMs }));
  const def = { groupBy: [] as string[], wait: 30_000, interval: 300_000, repeat: 14_400_000 };
  const cases: Array<[Record<string, string>, Array<Record<string, unknown>>]> = [
    [{ owner: 'team-A' }, [{ ...def, receiver: 'notify-A' }]],
    [{ owner: 'team-A', env: 'unset' }, [{ ...def, receiver: 'notify-A' }]],
    [{ owner: 'team-C' }, [{ ...def, receiver: 'notify-BC', groupBy: ['foo', 'bar'], wait: 120_000 }]],
    [{ owner: 'team-A', env: 'testing' }, [{ ...def, receiver: 'notify-testing', groupBy: 'all' }]],
    [{ owner: 'team-A', env: 'production' }, [{ ...def, receiver: 'notify-productionA', wait: 60_000 }, { ...def, receiver: 'notify-productionB', groupBy: ['job'], repeat: 3_600_000 }]],
    [{ group_by: 'role' }, [{ ...def, receiver: 'notify-def', groupBy: ['role'] }]],
    [{ env: 'testing', group_by: 'role' }, [{ ...def, receiver: 'notify-testing', groupBy: ['role'] }]],
    [{ env: 'testing', group_by: 'role', wait: 'long' }, [{ ...def, receiver: 'notify-testing', groupBy: ['role'], wait: 120_000 }]],
  ];
  for (const [labels, want] of cases) it(`${JSON.stringify(labels)} → ${want.map((w) => w.receiver).join(', ')}`, () => assert.deepEqual(opts(labels), want));
});

describe('alert routing: hostile trees are refused, naming where', () => {
  it('20,000 nested routes: a depth error with the path, no stack overflow', () => {
    let r: Record<string, unknown> = { receiver: 'pager' };
    for (let i = 0; i < 20_000; i++) r = { routes: [r] };
    const res = compileTree({ receiver: 'dashboard', ...r }, RECEIVERS);
    assert.ok(!res.ok);
    assert.match(res.reason, /deeper than 64 levels/);
    assert.equal(res.path, `route${'.routes[0]'.repeat(65)}`);
  });
  it('a bad regex names its route; an RE2-only construct is fine', () => {
    const res = compileTree({ receiver: 'dashboard', routes: [{ matchers: ['a=b'] }, { matchers: ['site=~"(?P<x>n)orth"', 'kind=~"[[:alpha:]"'] }] }, RECEIVERS);
    assert.ok(!res.ok);
    assert.deepEqual([res.path, res.field], ['route.routes[1]', 'matchers[1]']);
  });
  it('fields of the wrong type are field errors', () => {
    const cases: Array<[unknown, string]> = [
      [{ receiver: 'dashboard', continue: 'yes' }, 'continue'],
      [{ receiver: 5 }, 'receiver'],
      [{ receiver: 'dashboard', group_wait: 30 }, 'group_wait'],
      [{ receiver: 'dashboard', group_by: [5] }, 'group_by'],
      [{ receiver: 'dashboard', mute_time_intervals: 'nights' }, 'mute_time_intervals'],
      [{ receiver: 'dashboard', routes: {} }, 'routes'],
      [{ receiver: 'dashboard', matchers: 'a=b' }, 'matchers'],
    ];
    for (const [cfg, field] of cases) {
      const res = compileTree(cfg, RECEIVERS);
      assert.ok(!res.ok && res.field === field, JSON.stringify(cfg));
    }
  });
  it('durations are Prometheus\'s: units largest first, each once', () => {
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('1d12h'), 129_600_000);
    assert.equal(parseDuration('30m1h'), null);
    assert.equal(parseDuration('5m5m'), null);
    assert.equal(parseDuration(`${'9'.repeat(40)}y`), null);
  });
});
