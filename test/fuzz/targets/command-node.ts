/**
 * fleet-command's node settings parser (the runtime's and the editor's): any saved shape, from
 * well-formed to noise. Contract: never throws; a refusal names one of the saved fields; an
 * accepted configuration is plain data within its documented ranges.
 */
import fc from 'fast-check';

import { COMMAND_DEFAULTS, parseCommandConfig, parseScopeText } from '../../../lib/command/node-config';
import { AUDIT_CAPACITY, AUDIT_READ_LIMIT, parseAuditCapacity, parseAuditQuery } from '../../../lib/registry/audit';
import type { FuzzTarget } from '../harness';

const FIELDS = Object.keys(COMMAND_DEFAULTS);

const value = fc.oneof(
  fc.constantFrom('push', 'reset', 'emergency', 'fleet', 'site:building-a', 'location:', 'mqtts://b:8883', 'mqtt://', 'env_001, env_002', 'a/b', '+', 'PROD_X', 'lower', '60', '-1', '1e9', '', 'true'),
  fc.string({ maxLength: 40 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string({ maxLength: 10 }), { maxLength: 4 }),
);

const saved = fc.dictionary(fc.constantFrom(...FIELDS, '__proto__', 'other'), value, { maxKeys: 8 });

export const targets: FuzzTarget[] = [
  {
    name: 'command-node-config',
    arbitrary: saved,
    check(input) {
      const r = parseCommandConfig(input as Record<string, unknown>);
      if (!r.ok) return FIELDS.includes(r.field) && r.reason !== '' ? null : `refusal names ${r.field}: ${r.reason}`;
      const c = r.value;
      if (!(c.ackTimeoutS >= 1 && c.ackTimeoutS <= 86_400) || !Number.isInteger(c.retries) || c.retries < 0 || c.retries > 10) return `out of range: ${JSON.stringify(c)}`;
      if (parseScopeText(c.scope) === null) return `accepted scope ${c.scope}`;
      if (JSON.stringify(JSON.parse(JSON.stringify(c))) !== JSON.stringify(c)) return 'not plain data';
      return null;
    },
  },
  {
    // The registry's audit endpoint query (Express's parsed query: strings, lists, nested objects) and its capacity setting.
    name: 'registry-audit-query',
    arbitrary: fc.tuple(fc.dictionary(fc.constantFrom('since', 'limit', 'other'), fc.oneof(value, fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }))), { maxKeys: 3 }), value),
    check(input) {
      const [query, capacity] = input as [Record<string, unknown>, unknown];
      const q = parseAuditQuery(query);
      if (q.ok && !(Number.isInteger(q.value.since) && q.value.since >= 0 && q.value.limit >= 1 && q.value.limit <= AUDIT_READ_LIMIT)) return `accepted ${JSON.stringify(q.value)}`;
      if (!q.ok && !['since', 'limit'].includes(q.field)) return `refusal names ${q.field}`;
      const c = parseAuditCapacity(capacity);
      if (c.ok && !(Number.isInteger(c.value) && c.value >= AUDIT_CAPACITY.min && c.value <= AUDIT_CAPACITY.max)) return `accepted capacity ${c.value}`;
      return null;
    },
  },
];
