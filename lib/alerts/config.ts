/**
 * fleet-alerts' saved configuration: receivers (one node output each) and the routing document
 * (route tree, inhibit rules, time intervals, escalations), checked into what the dispatcher runs.
 * Every refusal names where: `route.routes[1]` + `receiver`, `inhibit_rules[0]` + `equal`, ...
 */
import type { Escalation, InhibitRule } from './dispatcher';
import { compileMatcherList, type CompiledMatcher } from './matchers';
import { compileTree, parseDuration, type Route, type RouteConfig } from './routes';
import { checkSpec, type TimeIntervalSpec } from './time-intervals';

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

export function parseAlertsConfig(receiversRaw: unknown, routingRaw: unknown): AlertsConfigResult {
  const fail = (path: string, field: string, reason: string): AlertsConfigResult => ({ ok: false, path, field, reason });
  const receivers = Array.isArray(receiversRaw) ? receiversRaw : typeof receiversRaw === 'string' && receiversRaw ? receiversRaw.split(',').map((s) => s.trim()) : [];
  if (receivers.length === 0) return fail('receivers', '', 'name at least one receiver (each is an output of the node)');
  for (const [i, r] of receivers.entries()) {
    if (typeof r !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$/.test(r)) return fail('receivers', `[${i}]`, 'a receiver name is letters, digits, space, _ . - (at most 64)');
  }
  if (new Set(receivers).size !== receivers.length) return fail('receivers', '', 'receiver names must be unique');

  let doc: unknown = routingRaw === undefined || routingRaw === '' ? { route: { receiver: receivers[0], group_by: ['alertname', 'site'] } } : routingRaw;
  if (typeof doc === 'string') {
    try { doc = JSON.parse(doc); } catch (err) { return fail('routing', '', `not valid JSON: ${(err as Error).message}`); }
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return fail('routing', '', 'must be an object with a route');
  const d = doc as RoutingDocument;

  const intervals = new Map<string, TimeIntervalSpec[]>();
  for (const [i, ti] of (d.time_intervals ?? []).entries()) {
    if (!ti || typeof ti.name !== 'string' || !Array.isArray(ti.time_intervals)) return fail(`time_intervals[${i}]`, '', 'needs a name and a list of time_intervals');
    for (const [j, spec] of ti.time_intervals.entries()) {
      const c = checkSpec(spec);
      if (!c.ok) return fail(`time_intervals[${i}]`, `time_intervals[${j}]`, c.reason);
    }
    intervals.set(ti.name, ti.time_intervals);
  }
  const tree = compileTree(d.route, receivers as string[], [...intervals.keys()]);
  if (!tree.ok) return tree;

  const inhibit: InhibitRule[] = [];
  for (const [i, rule] of (d.inhibit_rules ?? []).entries()) {
    const path = `inhibit_rules[${i}]`;
    const source = matcherList(rule.source_matchers, path, 'source_matchers');
    if (!Array.isArray(source)) return { ok: false, ...source };
    const target = matcherList(rule.target_matchers, path, 'target_matchers');
    if (!Array.isArray(target)) return { ok: false, ...target };
    if (source.length === 0 || target.length === 0) return fail(path, source.length ? 'target_matchers' : 'source_matchers', 'needs at least one matcher');
    if (rule.equal !== undefined && (!Array.isArray(rule.equal) || rule.equal.some((l) => typeof l !== 'string'))) return fail(path, 'equal', 'must be a list of label names');
    inhibit.push({ source, target, equal: rule.equal ?? [] });
  }

  const escalations: Escalation[] = [];
  for (const [i, e] of (d.escalations ?? []).entries()) {
    const path = `escalations[${i}]`;
    const matchers = matcherList(e.matchers, path, 'matchers');
    if (!Array.isArray(matchers)) return { ok: false, ...matchers };
    const after = parseDuration(e.after);
    if (after === null || after === 0) return fail(path, 'after', 'must be a duration such as 15m');
    if (!receivers.includes(e.receiver)) return fail(path, 'receiver', `receiver ${JSON.stringify(e.receiver)} is not defined`);
    escalations.push({ matchers, afterMs: after, receiver: e.receiver });
  }
  return { ok: true, value: { receivers: receivers as string[], tree: tree.value, inhibitRules: inhibit, timeIntervals: intervals, escalations } };
}
