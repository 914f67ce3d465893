/**
 * Moves a routing configuration between Alertmanager's YAML and fleet-alerts, with the `yaml`
 * package. Receivers travel by name (here they are node outputs, not integrations); anything
 * Alertmanager has that we do not is listed by import, never silently dropped. Import never
 * throws and costs what the text's length costs: the text is bounded, duplicate keys are found
 * with one pass (the package's own check is quadratic in a mapping's size), aliases are bounded.
 */
import YAML, { isMap, isScalar, isSeq, type Node } from 'yaml';

import { formatMatcher, type Matcher } from './matchers';
import { ROUTE_LIMITS, type RouteConfig } from './routes';

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

/** `path` names where, when it is one place (`route.routes[2].match`); the reason says it too. */
export type ImportResult =
  | { ok: true; config: RoutingConfig; unsupported: string[] }
  | { ok: false; reason: string; path?: string };

/** Far above a real Alertmanager configuration; a longer text is refused before it is parsed. */
export const YAML_LIMITS = { length: 262_144, aliases: 100 } as const;

const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);

class ImportError {
  constructor(readonly path: string, readonly reason: string) {}
}

/** A scalar as Go's yaml reads it into a string field: text, a number or a boolean. */
function scalarText(v: unknown, path: string): string {
  if (typeof v === 'string') return v;
  if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') return String(v);
  throw new ImportError(path, 'must be text');
}

function stringList(v: unknown, path: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ImportError(path, 'must be a list');
  return v.map((x, i) => scalarText(x, `${path}[${i}]`));
}

/** A classic label name (model.LabelNameRE), which `match` and `match_re` keys must be. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Alertmanager's older `match` / `match_re` maps become matchers. */
function legacyMatchers(eq: unknown, re: unknown, path: string, eqKey: string, reKey: string): string[] {
  const out: Matcher[] = [];
  for (const [map, op, key] of [[eq, '=', eqKey], [re, '=~', reKey]] as const) {
    if (map === undefined || map === null) continue;
    if (!isObj(map)) throw new ImportError(`${path}.${key}`, 'must map label names to values');
    for (const [k, v] of Object.entries(map)) {
      if (!LABEL_NAME.test(k)) throw new ImportError(`${path}.${key}`, `invalid label name ${JSON.stringify(k)}`);
      out.push({ name: k, op, value: scalarText(v, `${path}.${key}.${k}`) });
    }
  }
  return out.map(formatMatcher);
}

const ROUTE_KEYS = ['receiver', 'group_by', 'continue', 'group_wait', 'group_interval', 'repeat_interval', 'mute_time_intervals', 'active_time_intervals'] as const;
const ROUTE_KEY_SET: ReadonlySet<string> = new Set([...ROUTE_KEYS, 'matchers', 'match', 'match_re', 'routes']);
/** YAML 1.1 booleans, which Go's yaml (what Alertmanager reads with) still takes. */
const YAML11_BOOL = new Map<string, boolean>([['yes', true], ['on', true], ['y', true], ['true', true], ['no', false], ['off', false], ['n', false], ['false', false]]);

function importRoute(raw: unknown, path: string, unsupported: string[], depth: number): RouteConfig {
  if (depth > ROUTE_LIMITS.depth) throw new ImportError(path, `routes nest deeper than ${ROUTE_LIMITS.depth} levels`);
  if (!isObj(raw)) throw new ImportError(path, 'a route is a mapping');
  const r: RouteConfig = {};
  for (const key of ROUTE_KEYS) {
    const v = raw[key];
    if (v === undefined || v === null) continue;
    if (key === 'continue') {
      const b = typeof v === 'boolean' ? v : typeof v === 'string' ? YAML11_BOOL.get(v.toLowerCase()) : undefined;
      if (b === undefined) throw new ImportError(`${path}.continue`, 'must be true or false');
      r.continue = b;
    } else if (key === 'group_by' || key === 'mute_time_intervals' || key === 'active_time_intervals') {
      r[key] = stringList(v, `${path}.${key}`);
    } else {
      r[key] = scalarText(v, `${path}.${key}`);
    }
  }
  const matchers = [...stringList(raw.matchers, `${path}.matchers`), ...legacyMatchers(raw.match, raw.match_re, path, 'match', 'match_re')];
  if (matchers.length) r.matchers = matchers;
  for (const key of Object.keys(raw)) if (!ROUTE_KEY_SET.has(key)) unsupported.push(`${path}.${key}`);
  if (raw.routes !== undefined && raw.routes !== null) {
    if (!Array.isArray(raw.routes)) throw new ImportError(`${path}.routes`, 'must be a list of routes');
    r.routes = raw.routes.map((c, i) => importRoute(c, `${path}.routes[${i}]`, unsupported, depth + 1));
  }
  return r;
}

const RULE_KEYS: ReadonlySet<string> = new Set(['source_matchers', 'target_matchers', 'equal', 'source_match', 'source_match_re', 'target_match', 'target_match_re']);
const TOP_KEYS: ReadonlySet<string> = new Set(['route', 'receivers', 'inhibit_rules', 'time_intervals', 'mute_time_intervals']);

/** Go's yaml refuses a mapping that sets a key twice (Alertmanager loads strictly); so do we, in one pass. */
function duplicateKey(root: Node | null): string | null {
  const stack: Array<{ node: unknown; path: string }> = [{ node: root, path: '' }];
  while (stack.length) {
    const { node, path } = stack.pop()!;
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        // A mapping or list as a key has no meaning in Alertmanager's configuration.
        if (pair.key !== null && !isScalar(pair.key)) return `${path || 'the document'}: a key must be text, not a mapping or list`;
        const key = pair.key === null ? '' : String(pair.key.value);
        if (seen.has(key)) return `${path || 'the document'}: key ${JSON.stringify(key.slice(0, 64))} is set twice`;
        seen.add(key);
        stack.push({ node: pair.value, path: path ? `${path}.${key}` : key });
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => stack.push({ node: item, path: `${path}[${i}]` }));
    }
  }
  return null;
}

function parseYaml(text: string): { ok: true; doc: unknown } | { ok: false; reason: string } {
  try {
    const d = YAML.parseDocument(text, { uniqueKeys: false, prettyErrors: false });
    if (d.errors.length) return { ok: false, reason: `not valid YAML: ${d.errors[0].message}` };
    const dup = duplicateKey(d.contents);
    if (dup) return { ok: false, reason: `not valid Alertmanager YAML: ${dup}` };
    return { ok: true, doc: d.toJS({ maxAliasCount: YAML_LIMITS.aliases }) };
  } catch (err) {
    // The package throws for excess aliases, and a pathological nesting can exhaust the stack.
    return { ok: false, reason: `not valid YAML: ${err instanceof Error ? err.message : 'unreadable'}` };
  }
}

function importDoc(doc: unknown): ImportResult {
  if (!isObj(doc)) return { ok: false, reason: 'an Alertmanager configuration is a YAML mapping with at least `route` and `receivers`' };
  if (!isObj(doc.route)) return { ok: false, reason: 'no `route` section', path: 'route' };
  const unsupported: string[] = [];
  for (const key of Object.keys(doc)) if (!TOP_KEYS.has(key)) unsupported.push(`${key} (whole section)`);
  const receivers: string[] = [];
  if (doc.receivers !== undefined && doc.receivers !== null) {
    if (!Array.isArray(doc.receivers)) throw new ImportError('receivers', 'must be a list');
    for (const [i, rec] of doc.receivers.entries()) {
      if (!isObj(rec) || typeof rec.name !== 'string' || rec.name === '') throw new ImportError(`receivers[${i}]`, 'has no name');
      if (receivers.includes(rec.name)) throw new ImportError(`receivers[${i}]`, `receiver ${JSON.stringify(rec.name)} is defined twice`);
      receivers.push(rec.name);
      // Integrations become our node outputs: what Alertmanager would send there, the flow sends.
      for (const key of Object.keys(rec)) if (key !== 'name') unsupported.push(`receivers[${i}] (${rec.name}).${key}: wire output "${rec.name}" to a node that sends it`);
    }
  }
  const inhibit: InhibitRuleConfig[] = [];
  if (doc.inhibit_rules !== undefined && doc.inhibit_rules !== null) {
    if (!Array.isArray(doc.inhibit_rules)) throw new ImportError('inhibit_rules', 'must be a list');
    for (const [i, rule] of doc.inhibit_rules.entries()) {
      const path = `inhibit_rules[${i}]`;
      if (!isObj(rule)) throw new ImportError(path, 'an inhibit rule is a mapping');
      inhibit.push({
        source_matchers: [...stringList(rule.source_matchers, `${path}.source_matchers`), ...legacyMatchers(rule.source_match, rule.source_match_re, path, 'source_match', 'source_match_re')],
        target_matchers: [...stringList(rule.target_matchers, `${path}.target_matchers`), ...legacyMatchers(rule.target_match, rule.target_match_re, path, 'target_match', 'target_match_re')],
        equal: stringList(rule.equal, `${path}.equal`),
      });
      for (const key of Object.keys(rule)) if (!RULE_KEYS.has(key)) unsupported.push(`${path}.${key}`);
    }
  }
  const intervals: TimeIntervalConfig[] = [];
  for (const section of ['time_intervals', 'mute_time_intervals'] as const) {
    const list = doc[section];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) throw new ImportError(section, 'must be a list');
    for (const [i, ti] of list.entries()) {
      if (!isObj(ti) || typeof ti.name !== 'string' || !Array.isArray(ti.time_intervals)) throw new ImportError(`${section}[${i}]`, 'needs a name and a list of time_intervals');
      if (!ti.time_intervals.every(isObj)) throw new ImportError(`${section}[${i}].time_intervals`, 'each is a mapping');
      intervals.push({ name: ti.name, time_intervals: ti.time_intervals as Array<Record<string, unknown>> });
    }
  }
  return { ok: true, config: { route: importRoute(doc.route, 'route', unsupported, 0), receivers, inhibit_rules: inhibit, time_intervals: intervals }, unsupported };
}

export function importAlertmanagerYaml(text: string): ImportResult {
  if (typeof text !== 'string') return { ok: false, reason: 'an Alertmanager configuration is YAML text' };
  if (text.length > YAML_LIMITS.length) return { ok: false, reason: `the YAML is ${text.length.toLocaleString('en')} characters; at most ${YAML_LIMITS.length.toLocaleString('en')}` };
  const parsed = parseYaml(text);
  if (!parsed.ok) return parsed;
  try {
    return importDoc(parsed.doc);
  } catch (err) {
    if (err instanceof ImportError) return { ok: false, path: err.path, reason: `${err.path}: ${err.reason}` };
    throw err;
  }
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
