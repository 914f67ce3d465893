/**
 * Moves a routing configuration between Alertmanager's YAML and fleet-alerts, with the `yaml`
 * package. Receivers travel by name (here they are node outputs, not integrations); anything
 * Alertmanager has that we do not is listed by import, never silently dropped.
 */
import YAML from 'yaml';

import { formatMatcher, type Matcher } from './matchers';
import type { RouteConfig } from './routes';

export interface InhibitRuleConfig {
  source_matchers: string[];
  target_matchers: string[];
  equal: string[];
}

export interface TimeIntervalConfig {
  name: string;
  time_intervals: Array<Record<string, unknown>>;
}

export interface RoutingConfig {
  route: RouteConfig;
  receivers: string[];
  inhibit_rules: InhibitRuleConfig[];
  time_intervals: TimeIntervalConfig[];
}

export type ImportResult =
  | { ok: true; config: RoutingConfig; unsupported: string[] }
  | { ok: false; reason: string };

const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);

/** Alertmanager's older `match` / `match_re` maps become matchers. */
function legacyMatchers(eq: unknown, re: unknown): string[] {
  const out: Matcher[] = [];
  if (isObj(eq)) for (const [k, v] of Object.entries(eq)) out.push({ name: k, op: '=', value: String(v) });
  if (isObj(re)) for (const [k, v] of Object.entries(re)) out.push({ name: k, op: '=~', value: String(v) });
  return out.map(formatMatcher);
}

const ROUTE_KEYS = ['receiver', 'group_by', 'continue', 'group_wait', 'group_interval', 'repeat_interval', 'mute_time_intervals', 'active_time_intervals'] as const;

function importRoute(raw: unknown, path: string, unsupported: string[]): RouteConfig {
  const r: RouteConfig = {};
  if (!isObj(raw)) return r;
  for (const key of ROUTE_KEYS) if (raw[key] !== undefined) (r as Record<string, unknown>)[key] = raw[key];
  const matchers = [
    ...(Array.isArray(raw.matchers) ? raw.matchers.map(String) : []),
    ...legacyMatchers(raw.match, raw.match_re),
  ];
  if (matchers.length) r.matchers = matchers;
  for (const key of Object.keys(raw)) {
    if (!(ROUTE_KEYS as readonly string[]).includes(key) && !['matchers', 'match', 'match_re', 'routes'].includes(key)) unsupported.push(`${path}.${key}`);
  }
  if (Array.isArray(raw.routes)) r.routes = raw.routes.map((c, i) => importRoute(c, `${path}.routes[${i}]`, unsupported));
  return r;
}

export function importAlertmanagerYaml(text: string): ImportResult {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    return { ok: false, reason: `not valid YAML: ${(err as Error).message}` };
  }
  if (!isObj(doc)) return { ok: false, reason: 'an Alertmanager configuration is a YAML mapping with at least `route` and `receivers`' };
  if (!isObj(doc.route)) return { ok: false, reason: 'no `route` section' };
  const unsupported: string[] = [];
  for (const key of Object.keys(doc)) {
    if (!['route', 'receivers', 'inhibit_rules', 'time_intervals', 'mute_time_intervals'].includes(key)) unsupported.push(`${key} (whole section)`);
  }
  const receivers: string[] = [];
  if (Array.isArray(doc.receivers)) {
    for (const [i, rec] of doc.receivers.entries()) {
      if (!isObj(rec) || typeof rec.name !== 'string') return { ok: false, reason: `receivers[${i}] has no name` };
      receivers.push(rec.name);
      // Integrations become our node outputs: what Alertmanager would send there, the flow sends.
      for (const key of Object.keys(rec)) if (key !== 'name') unsupported.push(`receivers[${i}] (${rec.name}).${key}: wire output "${rec.name}" to a node that sends it`);
    }
  }
  const inhibit: InhibitRuleConfig[] = [];
  if (Array.isArray(doc.inhibit_rules)) {
    for (const [i, rule] of doc.inhibit_rules.entries()) {
      if (!isObj(rule)) continue;
      inhibit.push({
        source_matchers: [...(Array.isArray(rule.source_matchers) ? rule.source_matchers.map(String) : []), ...legacyMatchers(rule.source_match, rule.source_match_re)],
        target_matchers: [...(Array.isArray(rule.target_matchers) ? rule.target_matchers.map(String) : []), ...legacyMatchers(rule.target_match, rule.target_match_re)],
        equal: Array.isArray(rule.equal) ? rule.equal.map(String) : [],
      });
      for (const key of Object.keys(rule)) {
        if (!['source_matchers', 'target_matchers', 'equal', 'source_match', 'source_match_re', 'target_match', 'target_match_re'].includes(key)) unsupported.push(`inhibit_rules[${i}].${key}`);
      }
    }
  }
  const intervals: TimeIntervalConfig[] = [];
  for (const section of ['time_intervals', 'mute_time_intervals'] as const) {
    const list = doc[section];
    if (!Array.isArray(list)) continue;
    for (const ti of list) {
      if (isObj(ti) && typeof ti.name === 'string' && Array.isArray(ti.time_intervals)) intervals.push({ name: ti.name, time_intervals: ti.time_intervals as Array<Record<string, unknown>> });
    }
  }
  return { ok: true, config: { route: importRoute(doc.route, 'route', unsupported), receivers, inhibit_rules: inhibit, time_intervals: intervals }, unsupported };
}

export function exportAlertmanagerYaml(c: RoutingConfig): string {
  const doc: Record<string, unknown> = {
    route: c.route,
    receivers: c.receivers.map((name) => ({ name })),
  };
  if (c.inhibit_rules.length) doc.inhibit_rules = c.inhibit_rules;
  if (c.time_intervals.length) doc.time_intervals = c.time_intervals;
  return YAML.stringify(doc);
}
