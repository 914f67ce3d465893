/**
 * Parse, don't cast: every node's configuration parser, through the kit's loadConfig and the node's
 * migrations, takes arbitrary JSON in every saved field and answers with a value or a {field, reason}
 * error — it never throws.
 */
import assert from 'node:assert/strict';

import fc from 'fast-check';
import type { NodeAPI } from 'node-red';

import { parseAlertsConfig } from '../../lib/alerts/config';
import { parseDecodeConfig } from '../../lib/decode/config';
import { parseHealthConfig } from '../../lib/health/config';
import { parseHealthNodeConfig } from '../../lib/health/controller';
import { parseRegistryConfig } from '../../lib/registry/config';
import { parseFlushMs, parseMaxDevices } from '../../lib/registry/defaults';
import { loadConfig, type ConfigResult, type SavedDef } from '../../nodes/shared/kit';
import decodeNode = require('../../nodes/fleet-decode/fleet-decode');
import healthNode = require('../../nodes/fleet-health/fleet-health');
import alertsNode = require('../../nodes/fleet-alerts/fleet-alerts');
import registryNode = require('../../nodes/fleet-registry/fleet-registry');

const RED = { settings: {}, _: (k: string) => k } as unknown as NodeAPI;
const RUNS = 2000;

/** A value as a flow file could hold it: any JSON, or JSON text of any JSON (the fields saved as text). */
const anyField = fc.oneof(fc.jsonValue(), fc.jsonValue().map((v) => JSON.stringify(v)), fc.constantFrom('', '0', '1', '-1', 'true', '{}', '[]', 'null'));
/** A routing document with a route the receivers know, and every other section random: where casts hide. */
const routingDoc = fc.record({ route: fc.constant({ receiver: 'email' }), inhibit_rules: anyField, time_intervals: anyField, escalations: anyField }, { requiredKeys: ['route'] });
const routing = fc.oneof(routingDoc, routingDoc.map((d) => JSON.stringify(d)), anyField);
const version = fc.oneof(fc.constant(undefined), fc.constantFrom(0, 1, 2, '1', '', null, -1, 1.5), fc.jsonValue());

/** A saved def with `fields` set to random values (each one present or not), and the rest arbitrary. */
function savedDef(fields: readonly string[]): fc.Arbitrary<SavedDef> {
  const record = fc.record(Object.fromEntries(fields.map((f) => [f, f === 'routing' ? routing : anyField])), { requiredKeys: [] });
  return fc.tuple(record, version, fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 4 })).map(([r, v, extra]) => {
    const def: Record<string, unknown> = { ...extra, id: 'n1', ...r };
    if (v !== undefined) def.configVersion = v;
    return def;
  });
}

/** The contract of a parser's answer: a value, or a field and a reason that are text. */
function checkResult(r: ConfigResult<unknown> | { ok: boolean; field?: unknown; reason?: unknown; value?: unknown }): void {
  assert.equal(typeof r.ok, 'boolean');
  if (r.ok) assert.ok('value' in r && r.value !== undefined, 'ok without a value');
  else {
    assert.equal(typeof (r as { field?: unknown }).field, 'string', `field: ${JSON.stringify(r)}`);
    assert.equal(typeof (r as { reason?: unknown }).reason, 'string', `reason: ${JSON.stringify(r)}`);
    assert.ok(((r as { reason: string }).reason).length > 0, 'an empty reason');
  }
}

const NODES = [
  { name: 'fleet-decode', spec: decodeNode.spec, fields: ['profiles', 'kinds', 'unknownFields', 'maxBytes', 'prefixMap', 'rejects', 'includeCommands', 'registry', 'maxDepth'] },
  { name: 'fleet-health', spec: healthNode.spec, fields: ['scoring', 'sweepS', 'summaryS', 'registry', 'coalesceMs', 'overloadMs', 'overloadS'] },
  { name: 'fleet-alerts', spec: alertsNode.spec, fields: ['receivers', 'routing', 'outputs'] },
  { name: 'fleet-registry', spec: registryNode.spec, fields: ['persist', 'store', 'flushMs', 'maxDevices', 'name'] },
] as const;

describe('configuration parsers never throw on arbitrary JSON (fast-check)', function () {
  this.timeout(120_000);

  for (const n of NODES) {
    it(`${n.name}: loadConfig (migrations, then the parser) answers a value or {field, reason}`, () => {
      fc.assert(fc.property(savedDef(n.fields), (def) => { checkResult(loadConfig(n.spec as Parameters<typeof loadConfig>[0], def, RED).result); }), { numRuns: RUNS });
    });
    it(`${n.name}: the parser alone, on a def of arbitrary JSON objects`, () => {
      fc.assert(fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (def) => { checkResult(n.spec.parse(def, RED) as ConfigResult<unknown>); }), { numRuns: RUNS });
    });
  }

  it('fleet-alerts: a saved receiver with no text form (found by the property above, seed 1126430382) is refused by name', () => {
    const alerts = NODES.find((n) => n.name === 'fleet-alerts')!;
    const r = loadConfig(alerts.spec as Parameters<typeof loadConfig>[0], { id: 'n1', receivers: [[{ toString: '' }]] }, RED).result as { ok: boolean; field?: string };
    checkResult(r);
    assert.equal(r.ok, false);
    assert.match(String(r.field), /^receivers/);
  });

  it('the domain parsers on any JSON value: decode, health scoring and node, alerts routing, registry', () => {
    fc.assert(fc.property(anyField, anyField, routing, (a, b, doc) => {
      checkResult(parseAlertsConfig(['email'], doc) as ConfigResult<unknown>);
      checkResult(parseHealthConfig(a));
      checkResult(parseAlertsConfig(a, b) as ConfigResult<unknown>);
      checkResult(parseAlertsConfig(['email', 'webhook'], a) as ConfigResult<unknown>);
      for (const p of [parseFlushMs(a), parseMaxDevices(a, 10)]) assert.ok(p.ok ? Number.isInteger(p.value) : typeof p.reason === 'string');
      if (a !== null && typeof a === 'object' && !Array.isArray(a)) {
        checkResult(parseDecodeConfig(a) as ConfigResult<unknown>);
        checkResult(parseHealthNodeConfig(a));
        checkResult(parseRegistryConfig(a, 10));
      }
    }), { numRuns: RUNS * 2 });
  });

  it('a refusal is a field error, not a TypeError: cases found by hand', () => {
    for (const routing of ['{"route": {"receiver": "email"}, "inhibit_rules": 5}', { route: { receiver: 'email' }, time_intervals: 'x' }, '[]', '5', 'null']) {
      checkResult(parseAlertsConfig(['email'], routing) as ConfigResult<unknown>);
    }
    const r = parseRegistryConfig({ flushMs: 50 });
    assert.deepEqual(r.ok ? null : r.field, 'flushMs');
    const m = parseRegistryConfig({ maxDevices: '0' });
    assert.deepEqual(m.ok ? null : m.field, 'maxDevices');
  });
});
