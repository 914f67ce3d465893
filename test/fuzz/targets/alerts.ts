/**
 * Fuzz targets for fleet-alerts' parsers: routing documents (JSON), Alertmanager YAML, alerts from
 * flows, and matcher lines. Inputs mix random data, mutations of valid documents and the hardening
 * issue's reproductions; each check holds the parser to its contract (a value of the documented
 * shape, or a refusal naming where), a throw being counted by the harness.
 */
import fc from 'fast-check';
import YAML from 'yaml';

import type { FuzzTarget } from '../harness';
import { parseAlertsConfig } from '../../../lib/alerts/config';
import { importAlertmanagerYaml } from '../../../lib/alerts/alertmanager-yaml';
import { loadAlertmanagerConfig } from '../../../lib/alerts/alertmanager-config';
import { readAlert } from '../../../lib/alerts/input';
import { compileMatcherList, matchesAll, parseMatcherText } from '../../../lib/alerts/matchers';
import type { Route } from '../../../lib/alerts/routes';

const RECEIVERS = ['dashboard', 'email', 'chat'];

/** Values that have broken parsers before, or are likely to. */
const odd = fc.constantFrom<unknown>(
  null, 5, -1, 0, 1e20, Number.NaN, true, '', ' ', '{}', [], {}, [null], [5], ['x'], { toString: 1 }, { __proto__: null }, '__proto__', 'constructor',
  'toString', '30s', '0s', '1h30m', '5m5m', '(a+)+', 'site=~"(a+)+"', 'a=b', '{a="b", c!~"d"}', '24:00', 'monday:friday', 'Mars/Olympus', 'Europe/Amsterdam',
);
const matcherLine = fc.oneof(
  fc.constantFrom('severity=critical', 'site=~"north|south"', 'kind!=audio', '{owner="team-A", x=~"y"}', 'a=~"("', 'x', '"q"="v"', 'a=~"(?i)x"', 'b!~"\\\\d+"'),
  fc.string({ maxLength: 24 }),
);
const duration = fc.oneof(fc.constantFrom('30s', '5m', '4h', '1h30m', '0s', '0', 'soon', '1y2w', '250ms'), fc.string({ maxLength: 6 }));

const routeArb: fc.Arbitrary<unknown> = fc.letrec<{ route: unknown }>((tie) => ({
  route: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    odd,
    fc.record(
      {
        receiver: fc.oneof(fc.constantFrom(...RECEIVERS), odd),
        matchers: fc.oneof(fc.array(matcherLine, { maxLength: 3 }), odd),
        continue: fc.oneof(fc.boolean(), odd),
        group_by: fc.oneof(fc.array(fc.constantFrom('alertname', 'site', '...', '', 'service name'), { maxLength: 3 }), odd),
        group_wait: duration,
        group_interval: duration,
        repeat_interval: duration,
        mute_time_intervals: fc.oneof(fc.constant(['nights']), odd),
        active_time_intervals: fc.oneof(fc.constant(['days']), odd),
        routes: fc.oneof(fc.array(tie('route'), { maxLength: 3 }), odd),
      },
      { requiredKeys: [] },
    ),
  ),
})).route;

const specArb = fc.oneof(odd, fc.record({
  times: fc.oneof(fc.array(fc.record({ start_time: fc.oneof(fc.constantFrom('08:00', '22:00', '24:00', '25:00'), odd), end_time: fc.oneof(fc.constantFrom('18:00', '24:00', '00:00'), odd) }), { maxLength: 2 }), odd),
  weekdays: fc.oneof(fc.array(fc.constantFrom('monday:friday', 'sunday', 'friday:monday', 'Funday'), { maxLength: 2 }), odd),
  days_of_month: fc.oneof(fc.array(fc.oneof(fc.constantFrom('1:5', '-1', '0', '-3:-1', '40'), fc.integer({ min: -40, max: 40 })), { maxLength: 2 }), odd),
  months: fc.oneof(fc.array(fc.constantFrom('january:march', 'december:february', '13', 'may'), { maxLength: 2 }), odd),
  years: fc.oneof(fc.array(fc.oneof(fc.constantFrom('2020:2030', '2031:2020'), fc.integer()), { maxLength: 2 }), odd),
  location: fc.oneof(fc.constantFrom('', 'UTC', 'Europe/Amsterdam', 'Mars/Olympus', 'Local'), odd),
}, { requiredKeys: [] }));

const routingDoc = fc.record({
  route: routeArb,
  inhibit_rules: fc.oneof(fc.array(fc.oneof(odd, fc.record({ source_matchers: fc.oneof(fc.array(matcherLine, { maxLength: 2 }), odd), target_matchers: fc.oneof(fc.array(matcherLine, { maxLength: 2 }), odd), equal: fc.oneof(fc.constant(['site']), odd) }, { requiredKeys: [] })), { maxLength: 2 }), odd),
  time_intervals: fc.oneof(fc.array(fc.oneof(odd, fc.record({ name: fc.oneof(fc.constantFrom('nights', 'days'), odd), time_intervals: fc.oneof(fc.array(specArb, { maxLength: 2 }), odd) }, { requiredKeys: [] })), { maxLength: 2 }), odd),
  escalations: fc.oneof(fc.array(fc.oneof(odd, fc.record({ matchers: fc.oneof(fc.array(matcherLine, { maxLength: 2 }), odd), after: duration, receiver: fc.oneof(fc.constantFrom(...RECEIVERS), odd) }, { requiredKeys: [] })), { maxLength: 2 }), odd),
}, { requiredKeys: [] });

/** 20,000 nested routes, built once (the reproduction that overflowed the stack). */
function nested(depth: number): unknown {
  let r: Record<string, unknown> = { receiver: 'email' };
  for (let i = 0; i < depth; i++) r = { routes: [r] };
  return { route: { receiver: 'dashboard', ...r } };
}
const REPRODUCTIONS: unknown[] = [
  { route: { receiver: 'dashboard' }, time_intervals: {} },
  { route: { receiver: 'dashboard' }, inhibit_rules: [null] },
  { route: { receiver: 'dashboard' }, escalations: [null] },
  { route: { receiver: 'dashboard' }, inhibit_rules: 5 },
  { route: { receiver: 'dashboard' }, time_intervals: [{ name: 'n', time_intervals: [{ times: 5 }] }] },
  { route: { receiver: 'dashboard' }, time_intervals: [{ name: 'n', time_intervals: [{ weekdays: [5] }] }] },
  { route: { receiver: 'dashboard' }, time_intervals: [{ name: 'n', time_intervals: [{ location: '' }] }] },
  nested(20_000),
  { route: { receiver: 'dashboard', routes: [{ matchers: ['site=~"(a+)+"'] }] } },
];
/** Their JSON text, written here: JSON.stringify itself overflows on 20,000 levels. */
const DEEP_TEXT = `{"route":{"receiver":"dashboard",${'"routes":[{'.repeat(20_000)}"receiver":"email"${'}]'.repeat(20_000)}}}`;
const TEXT = new Map<unknown, string>(REPRODUCTIONS.map((r, i) => [r, i === 7 ? DEEP_TEXT : JSON.stringify(r)]));

/** A string mutated by a few random edits: near-valid input reaches deeper into a parser. */
const mutate = (base: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.tuple(base, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 3 }), fc.string({ maxLength: 3 })), { maxLength: 4 })).map(([s, edits]) => {
    let out = s;
    for (const [at, del, ins] of edits) { const i = out.length ? at % out.length : 0; out = out.slice(0, i) + ins + out.slice(i + del); }
    return out;
  });

const isString = (x: unknown): x is string => typeof x === 'string';

function checkTree(r: Route, receivers: readonly string[] = RECEIVERS): string | null {
  let seen = 0;
  const stack: Route[] = [r];
  while (stack.length) {
    const x = stack.pop()!;
    if (!isString(x.path) || !isString(x.receiver) || !receivers.includes(x.receiver)) return `route ${String(x.path)} has a bad receiver`;
    if (!Number.isSafeInteger(x.groupWaitMs) || !(x.groupIntervalMs > 0) || !(x.repeatIntervalMs > 0)) return `route ${x.path} has bad timings`;
    if (x.groupBy !== 'all' && !x.groupBy.every(isString)) return `route ${x.path} has a bad group_by`;
    if (++seen > 20_000) return 'tree too large';
    stack.push(...x.routes);
  }
  return null;
}

function checkRefusal(r: { path?: unknown; field?: unknown; reason?: unknown }): string | null {
  return isString(r.path) && isString(r.field) && isString(r.reason) && r.reason.length > 0 ? null : `refusal of the wrong shape: ${JSON.stringify(r)}`;
}

const routingJson: FuzzTarget<{ doc: unknown; asText: boolean }> = {
  name: 'routing-json',
  arbitrary: fc.record({
    doc: fc.oneof({ weight: 6, arbitrary: routingDoc }, { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }) }, { weight: 1, arbitrary: fc.constantFrom(...REPRODUCTIONS) }),
    asText: fc.boolean(),
  // The harness prints a slow input with String() when fast-check cannot (20,000 levels deep).
  }, { noNullPrototype: true }),
  check({ doc, asText }) {
    let input: unknown = doc;
    if (asText) input = TEXT.get(doc) ?? JSON.stringify(doc);
    const r = parseAlertsConfig(RECEIVERS, input);
    if (!r.ok) return checkRefusal(r);
    const labels = { alertname: 'A', site: 'north', severity: 'critical' };
    for (const rule of r.value.inhibitRules) if (typeof matchesAll(rule.source, labels) !== 'boolean') return 'inhibit matcher did not answer';
    return checkTree(r.value.tree);
  },
};

const yamlArb = fc.oneof(
  { weight: 4, arbitrary: routingDoc.map((d) => { try { return YAML.stringify({ ...d, receivers: RECEIVERS.map((name) => ({ name })) }); } catch { return ''; } }) },
  { weight: 3, arbitrary: mutate(fc.constantFrom(
    'route:\n  receiver: a\n  routes:\n    - match: {site: north}\n      receiver: b\n      continue: yes\nreceivers: [{name: a}, {name: b}]\n',
    'route: {receiver: a, match: {toString: 1}}\nreceivers: [{name: a}]\n',
    'route: {receiver: a, match: {a: {toString: 1}}}\nreceivers: [{name: a}]\n',
    'route:\n  receiver: a\n  match_re: {x: "(a+)+"}\nreceivers:\n  - name: a\ninhibit_rules:\n  - source_matchers: [a=b]\n    target_match: {c: d}\n    equal: [site]\n',
    'x: &a [1, 2]\ny: [*a, *a, *a]\nroute: {receiver: a}\n',
    'route: {receiver: a, receiver: b}\n',
  )) },
  { weight: 1, arbitrary: fc.string({ maxLength: 80 }) },
);

const alertmanagerYaml: FuzzTarget<string> = {
  name: 'alertmanager-yaml',
  arbitrary: yamlArb,
  check(text) {
    const r = importAlertmanagerYaml(text);
    if (r.ok) {
      if (r.config.route === null || typeof r.config.route !== 'object') return 'route is not an object';
      if (!r.config.receivers.every(isString) || !r.unsupported.every(isString)) return 'receivers or unsupported are not strings';
      if (!r.config.inhibit_rules.every((x) => [...x.source_matchers, ...x.target_matchers, ...x.equal].every(isString))) return 'inhibit rule lists are not strings';
    } else if (!isString(r.reason) || r.reason === '') {
      return 'refusal without a reason';
    }
    if (!r.ok) return null;
    // What loadAlertmanagerConfig does next, without parsing the YAML a second time.
    const c = parseAlertsConfig(r.config.receivers, { route: r.config.route, inhibit_rules: r.config.inhibit_rules, time_intervals: r.config.time_intervals });
    if (!c.ok) return checkRefusal(c);
    return checkTree(c.value.tree, r.config.receivers);
  },
};

const label = fc.oneof(fc.constantFrom('alertname', 'severity', 'device', 'site', '__proto__', 'constructor', 'toString', '', 'service name'), fc.string({ maxLength: 8 }));
const time = fc.oneof(fc.constantFrom<unknown>(1e20, -1, 9e15, Number.NaN, '2026-12-01T00:00:00Z', '0001-01-01T00:00:00Z', 'yesterday', '+275760-09-13T00:00:00.000Z', null, 1_800_000_000_000), fc.integer(), fc.double());
const labelsArb = fc.oneof(fc.dictionary(label, fc.oneof(fc.string({ maxLength: 8 }), odd), { maxKeys: 5 }), odd);
const alertArb = fc.oneof(
  fc.record({ name: fc.oneof(fc.constantFrom('DeviceOffline', 'BrokerDown'), odd), severity: fc.oneof(fc.constantFrom('critical', 'warning', 'page', 'P1'), odd), summary: fc.oneof(fc.constant('s'), odd), labels: labelsArb, device: fc.oneof(fc.constant('d-1'), odd), status: fc.oneof(fc.constantFrom('firing', 'resolved'), odd), startsAt: time, endsAt: time, details: fc.oneof(fc.jsonValue({ maxDepth: 2 }), odd) }, { requiredKeys: [] }),
  fc.record({ labels: labelsArb, annotations: fc.oneof(fc.dictionary(label, fc.string({ maxLength: 8 }), { maxKeys: 3 }), odd), startsAt: time, endsAt: time, generatorURL: fc.oneof(fc.constant('http://prom/graph'), odd) }, { requiredKeys: ['labels'] }),
  fc.jsonValue({ maxDepth: 3 }),
);

const ISO = (x: unknown): boolean => isString(x) && !Number.isNaN(Date.parse(x)) && new Date(Date.parse(x)).toISOString() === x;

const alertInput: FuzzTarget<unknown> = {
  name: 'alert-input',
  arbitrary: alertArb,
  check(input) {
    const r = readAlert(input, 1_800_000_000_000);
    if (!r.ok) return isString(r.field) && isString(r.reason) && r.reason !== '' ? null : 'refusal of the wrong shape';
    const a = r.value;
    if (Object.getPrototypeOf(a.labels) !== Object.prototype) return 'labels have an odd prototype';
    for (const k of Object.keys(a.labels)) if (!isString(a.labels[k]) || a.labels[k] === '') return `label ${k} is not text`;
    if (!ISO(a.startsAt) || (a.endsAt !== null && !ISO(a.endsAt))) return `times are not ISO 8601: ${a.startsAt} ${a.endsAt}`;
    if (!/^[0-9a-f]{16}$/.test(a.fingerprint) || !isString(a.name) || !isString(a.severity) || !isString(a.summary)) return 'alert of the wrong shape';
    if ((a.status === 'resolved') !== (a.endsAt !== null)) return 'status and endsAt disagree';
    return null;
  },
};

const MATCHER_CHARS = ['a', 'b', 'x', '_', ':', '1', '=', '!', '~', '"', '\\', ',', '{', '}', ' ', '\t', '\n', '(', ')', '+', '*', '.', '|', '?', '[', ']', "'", '`', 'é', '🙂', 'n', 'u', 'x', '\ud800'];
const matcherText = fc.oneof(
  fc.array(fc.constantFrom(...MATCHER_CHARS), { maxLength: 40 }).map((a) => a.join('')),
  mutate(fc.constantFrom('{foo="bar", baz!~"quux.*"}', 'site=~"(a+)+"', '"service name"=~"(?i)api"', 'a=b,c!=d,', 'x=~"\\\\Qa.b\\\\E"')),
);

const matchers: FuzzTarget<string> = {
  name: 'matchers',
  arbitrary: matcherText,
  check(text) {
    const p = parseMatcherText(text);
    if (!p.ok) return isString(p.reason) && p.reason !== '' ? null : 'refusal without a reason';
    for (const m of p.value) if (!isString(m.name) || !isString(m.value) || !['=', '!=', '=~', '!~'].includes(m.op)) return `matcher of the wrong shape: ${JSON.stringify(m)}`;
    const c = compileMatcherList([text]);
    if (c.ok && typeof matchesAll(c.value, { foo: 'bar', a: 'a'.repeat(30), site: 'north' }) !== 'boolean') return 'matching did not answer';
    if (!c.ok && !isString(c.reason)) return 'compile refusal without a reason';
    return null;
  },
};

// One call each before timing starts, so the slowest input is a parser's cost, not its JIT warm-up.
for (let i = 0; i < 50; i++) {
  parseAlertsConfig(RECEIVERS, REPRODUCTIONS[i % REPRODUCTIONS.length]);
  loadAlertmanagerConfig('route: {receiver: a, routes: [{matchers: [\'a=~"(?i)b"\'], receiver: a}]}\nreceivers: [{name: a}]\n');
  readAlert({ labels: { alertname: 'A' }, startsAt: '2026-12-01T00:00:00Z' }, 0);
  compileMatcherList(['{foo="bar", baz!~"quux.*"}', 'a=b']);
}

export const targets: FuzzTarget[] = [routingJson, alertmanagerYaml, alertInput, matchers] as FuzzTarget[];
