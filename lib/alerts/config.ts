/**
 * fleet-alerts' saved configuration: receivers (one node output each) and the routing document
 * (route tree, inhibit rules, time intervals, escalations), checked into what the dispatcher runs.
 * Every refusal names where: `route.routes[1]` + `receiver`, `inhibit_rules[0]` + `equal`, ...
 */
import type { Escalation, InhibitRule } from './dispatcher';
import { compileMatcherList, type CompiledMatcher } from './matchers';
import { compileTree, parseDuration, ROUTE_LIMITS, type Route, type RouteConfig } from './routes';
import { parseSpec, type TimeIntervalSpec } from './time-intervals';
import { jsonTooDeepAt } from '../json-depth';

export interface RoutingDocument {
  route: RouteConfig;
  inhibit_rules?: Array<{ source_matchers?: string[]; target_matchers?: string[]; equal?: string[] }>;
  time_intervals?: Array<{ name: string; time_intervals: TimeIntervalSpec[] }>;
  escalations?: Array<{ matchers?: string[]; after: string; receiver: string }>;
}

export interface AlertsConfig {
  readonly receivers: readonly string[];
  readonly tree: Route;
  readonly inhibitRules: readonly InhibitRule[];
  readonly timeIntervals: ReadonlyMap<string, readonly TimeIntervalSpec[]>;
  readonly escalations: readonly Escalation[];
}

export type AlertsConfigResult = { ok: true; value: AlertsConfig } | { ok: false; path: string; field: string; reason: string };

function matcherList(list: unknown, path: string, field: string): CompiledMatcher[] | { path: string; field: string; reason: string } {
  if (list === undefined) return [];
  const m = compileMatcherList(list);
  return m.ok ? m.value : { path, field: m.index === null ? field : `${field}[${m.index}]`, reason: m.reason };
}

/** How many of each a routing document may hold: far above real configurations. */
export const ROUTING_LIMITS = { timeIntervals: 1000, inhibitRules: 1000, escalations: 1000, documentBytes: 262_144, jsonDepth: 256 } as const;


type Fail = { ok: false; path: string; field: string; reason: string };

function list(doc: Record<string, unknown>, key: string, max: number): unknown[] | Fail {
  const v = doc[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return { ok: false, path: key, field: '', reason: 'must be a list' };
  if (v.length > max) return { ok: false, path: key, field: '', reason: `has ${v.length} entries; at most ${max}` };
  return v;
}

const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
const isFail = (x: unknown): x is Fail => isObj(x) && x.ok === false;
const DOC_KEYS = new Set(['route', 'inhibit_rules', 'time_intervals', 'escalations']);

/**
 * Checks fleet-alerts' receivers and routing document into what the dispatcher runs. Never throws:
 * any input, however shaped, is a configuration or a refusal naming the path and field.
 */
export function parseAlertsConfig(receiversRaw: unknown, routingRaw: unknown): AlertsConfigResult {
  const fail = (path: string, field: string, reason: string): AlertsConfigResult => ({ ok: false, path, field, reason });
  const receivers = Array.isArray(receiversRaw) ? receiversRaw : typeof receiversRaw === 'string' && receiversRaw ? receiversRaw.split(',').map((s) => s.trim()) : [];
  if (receivers.length === 0) return fail('receivers', '', 'name at least one receiver (each is an output of the node)');
  if (receivers.length > 64) return fail('receivers', '', 'at most 64 receivers');
  const names: string[] = [];
  for (const [i, r] of receivers.entries()) {
    if (typeof r !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$/.test(r)) return fail('receivers', `[${i}]`, 'a receiver name is letters, digits, space, _ . - (at most 64)');
    names.push(r);
  }
  if (new Set(names).size !== names.length) return fail('receivers', '', 'receiver names must be unique');

  let doc: unknown = routingRaw === undefined || routingRaw === '' ? { route: { receiver: names[0], group_by: ['alertname', 'site'] } } : routingRaw;
  if (typeof doc === 'string') {
    if (doc.length > ROUTING_LIMITS.documentBytes) return fail('routing', '', `is ${doc.length} characters; at most ${ROUTING_LIMITS.documentBytes}`);
    // One pass over the text: JSON.parse of 20,000 nested routes costs what a refused document need not.
    if (jsonTooDeepAt(doc, ROUTING_LIMITS.jsonDepth) !== -1) return fail('routing', '', `nests more than ${ROUTING_LIMITS.jsonDepth} levels deep (routes at most ${ROUTE_LIMITS.depth})`);
    try { doc = JSON.parse(doc); } catch (err) { return fail('routing', '', `not valid JSON: ${(err as Error).message}`); }
  }
  if (!isObj(doc)) return fail('routing', '', 'must be an object with a route');
  for (const key of Object.keys(doc)) if (!DOC_KEYS.has(key)) return fail('routing', key, 'is not a routing setting (route, inhibit_rules, time_intervals, escalations)');

  const intervals = new Map<string, TimeIntervalSpec[]>();
  const tis = list(doc, 'time_intervals', ROUTING_LIMITS.timeIntervals);
  if (isFail(tis)) return tis;
  for (const [i, ti] of tis.entries()) {
    const path = `time_intervals[${i}]`;
    if (!isObj(ti) || typeof ti.name !== 'string' || ti.name === '') return fail(path, 'name', 'a time interval needs a name');
    if (intervals.has(ti.name)) return fail(path, 'name', `time interval ${JSON.stringify(ti.name)} is defined twice`);
    if (!Array.isArray(ti.time_intervals)) return fail(path, 'time_intervals', 'must be a list of intervals (times, weekdays, days_of_month, months, years, location)');
    const specs: TimeIntervalSpec[] = [];
    for (const [j, spec] of ti.time_intervals.entries()) {
      const c = parseSpec(spec);
      if (!c.ok) return fail(path, c.field ? `time_intervals[${j}].${c.field}` : `time_intervals[${j}]`, c.reason);
      specs.push(c.value);
    }
    intervals.set(ti.name, specs);
  }
  const tree = compileTree(doc.route, names, [...intervals.keys()]);
  if (!tree.ok) return tree;

  const inhibit: InhibitRule[] = [];
  const rules = list(doc, 'inhibit_rules', ROUTING_LIMITS.inhibitRules);
  if (isFail(rules)) return rules;
  for (const [i, rule] of rules.entries()) {
    const path = `inhibit_rules[${i}]`;
    if (!isObj(rule)) return fail(path, '', 'an inhibit rule is an object with source_matchers, target_matchers and equal');
    const source = matcherList(rule.source_matchers, path, 'source_matchers');
    if (!Array.isArray(source)) return { ok: false, ...source };
    const target = matcherList(rule.target_matchers, path, 'target_matchers');
    if (!Array.isArray(target)) return { ok: false, ...target };
    if (source.length === 0 || target.length === 0) return fail(path, source.length ? 'target_matchers' : 'source_matchers', 'needs at least one matcher');
    const equal = rule.equal;
    if (equal !== undefined && (!Array.isArray(equal) || equal.some((l) => typeof l !== 'string' || l === ''))) return fail(path, 'equal', 'must be a list of label names');
    inhibit.push({ source, target, equal: equal ? [...(equal as string[])] : [] });
  }

  const escalations: Escalation[] = [];
  const escs = list(doc, 'escalations', ROUTING_LIMITS.escalations);
  if (isFail(escs)) return escs;
  for (const [i, e] of escs.entries()) {
    const path = `escalations[${i}]`;
    if (!isObj(e)) return fail(path, '', 'an escalation is an object with matchers, after and receiver');
    const matchers = matcherList(e.matchers, path, 'matchers');
    if (!Array.isArray(matchers)) return { ok: false, ...matchers };
    const after = typeof e.after === 'string' ? parseDuration(e.after) : null;
    if (after === null || after === 0) return fail(path, 'after', 'must be a duration such as 15m');
    if (typeof e.receiver !== 'string' || !names.includes(e.receiver)) return fail(path, 'receiver', `receiver ${typeof e.receiver === 'string' ? JSON.stringify(e.receiver) : '(not a name)'} is not defined`);
    escalations.push({ matchers, afterMs: after, receiver: e.receiver });
  }
  return { ok: true, value: { receivers: names, tree: tree.value, inhibitRules: inhibit, timeIntervals: intervals, escalations } };
}
