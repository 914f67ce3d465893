/**
 * fleet-alerts' journal records read back after a crash or by hand-editing: whatever they hold, the
 * dispatcher loads what it can, counts the rest as damaged, and then flushes and writes records
 * that are plain JSON data. And a device's own alert as fleet-alerts takes it: a field error or an
 * alert within the limits.
 */
import fc from 'fast-check';

import type { FuzzTarget } from '../harness';
import { AlertDispatcher } from '../../../lib/alerts/dispatcher';
import { checkAlertLimits, checkDeviceTimestamp } from '../../../lib/alerts/limits';
import { compileTree } from '../../../lib/alerts/routes';
import { deviceAlert, makeAlert } from '../../../lib/alert-shape';

const T0 = 1_800_000_000_000;
const tree = compileTree({ receiver: 'a', group_by: ['alertname', 'site'], group_wait: '0s', routes: [{ matchers: ['site="north"'], receiver: 'b' }] }, ['a', 'b']);
if (!tree.ok) throw new Error(tree.reason);
const route = tree.value;

/** Real records of a small state, as material to mutate. */
const seed = (() => {
  const d = new AlertDispatcher(route);
  for (let i = 0; i < 4; i++) d.receive(makeAlert({ name: 'DeviceOffline', severity: 'major', device: `d-${i}`, labels: { site: i % 2 ? 'north' : 'south' }, summary: 's', startsAt: T0, source: 'fuzz' }), T0);
  d.addSilence({ id: 's1', matchers: [], endsAt: T0 + 1e6 });
  d.flush(T0);
  return JSON.parse(JSON.stringify(d.records())) as Array<[string, unknown]>;
})();

const key = fc.oneof(
  fc.constantFrom(...seed.map(([k]) => k)),
  fc.tuple(fc.constantFrom('f:', 'g:', 'm:', 's:', 'o:', 'x:', ''), fc.string({ maxLength: 40 })).map(([p, s]) => p + s),
);
const value = fc.oneof(fc.constantFrom(...seed.map(([, v]) => v)), fc.jsonValue({ maxDepth: 4 }), fc.constant('firing'));
/** A real record with one field replaced by anything. */
const mutated = fc.tuple(fc.constantFrom(...seed), fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 })).map(([[k, v], field, x]) => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return [k, x] as [string, unknown];
  const names = Object.keys(v);
  const name = names.length && field.length % 2 ? names[field.length % names.length] : field;
  return [k, { ...(v as Record<string, unknown>), [name]: x }] as [string, unknown];
});

const isPlainJson = (x: unknown, depth = 0): boolean => {
  if (depth > 64) return false;
  if (x === null || typeof x === 'string' || typeof x === 'boolean') return true;
  if (typeof x === 'number') return Number.isFinite(x);
  if (Array.isArray(x)) return x.every((y) => isPlainJson(y, depth + 1));
  if (typeof x === 'object') return Object.getPrototypeOf(x) === Object.prototype && Object.values(x as object).every((y) => isPlainJson(y, depth + 1));
  return false;
};

const state: FuzzTarget<Array<[string, unknown]>> = {
  name: 'alert-state-records',
  arbitrary: fc.array(fc.oneof(fc.tuple(key, value), mutated), { maxLength: 12 }),
  check(records) {
    const d = new AlertDispatcher(route);
    const damaged = d.load(records, T0 + 1000);
    if (!Number.isInteger(damaged) || damaged < 0 || damaged > records.length) return `damaged count ${damaged} for ${records.length} records`;
    d.flush(T0 + 60_000);
    for (const [k, v] of d.takeChanges()) if (v !== undefined && !isPlainJson(v)) return `record ${k} is not plain JSON data`;
    return null;
  },
};

const device: FuzzTarget<{ payload: Record<string, unknown>; labels: Record<string, string> }> = {
  name: 'alerts-device-alert',
  arbitrary: fc.record({
    payload: fc.record({
      severity: fc.oneof(fc.constantFrom('critical', 'warning', 'info', 'toString', '__proto__'), fc.string()),
      message: fc.oneof(fc.string({ maxLength: 100 }), fc.integer()),
      timestamp: fc.oneof(fc.double(), fc.integer(), fc.constantFrom(9e12, 9e15, 1e20, -1e20, Number.MAX_VALUE), fc.string()),
    }, { requiredKeys: [] }),
    labels: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 20 }), { maxKeys: 80 }),
  }),
  check({ payload, labels }) {
    if (checkDeviceTimestamp(payload)) return null; // refused with a field: fine
    const a = deviceAlert('dev-1', payload, labels, T0);
    const over = checkAlertLimits(a);
    if (over && !/^payload/.test(over.field)) return `limit without a payload field: ${over.field}`;
    if (Number.isNaN(Date.parse(a.startsAt))) return `startsAt ${a.startsAt}`;
    return null;
  },
};

export const targets: FuzzTarget[] = [state as FuzzTarget, device as FuzzTarget];
