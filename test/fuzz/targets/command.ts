/**
 * fleet-command's parsers: the fleet file (text, from mutated guide files to noise), the device
 * configuration validator, and command requests. Contract: never throw, errors name a path and
 * a reason, accepted output is plain data that resolves without throwing.
 */
import fc from 'fast-check';
import YAML from 'yaml';

import { configHash, deviceConfigErrors, type DeviceConfig } from '../../../firmware/contract/device-config';
import { parseCommandRequest, resolveTargets } from '../../../lib/command/commands';
import { parseFleetFile, type FleetError } from '../../../lib/command/fleet-file';
import { resolveFleet } from '../../../lib/command/resolve';
import { secretSource } from '../../../lib/command/secrets';
import type { FuzzTarget } from '../harness';
import { GUIDE_BASES, GUIDE_FLEET_YAML, PROD_CONFIG, PROD_ENV } from '../../unit/command-guide';

const env = secretSource(PROD_ENV);

const plain = (v: unknown): boolean => {
  try {
    return JSON.stringify(JSON.parse(JSON.stringify(v))) === JSON.stringify(v);
  } catch {
    return false;
  }
};

function fleetErrorProblem(e: FleetError): string | null {
  if (typeof e.file !== 'string' || typeof e.path !== 'string' || typeof e.reason !== 'string' || e.reason === '' || typeof e.message !== 'string') return `malformed error ${JSON.stringify(e)}`;
  if (e.line !== undefined && !(Number.isInteger(e.line) && e.line >= 1)) return `bad line ${String(e.line)}`;
  if (!e.message.includes(e.reason)) return 'message does not hold the reason';
  return null;
}

const FRAGMENTS = ['fleet:', '  devices:', '    - device_id: ', '      location: ', '      site: ', '      overrides:', '        measurement_interval: ', '  configuration:', '    base_config: "production.toml"', '    base:', '      sensor: { measurement_interval_seconds: 10 }', '    overrides:', '      - device: ', '      - site: ', '        log_level: ', '&a [1, *a]', '*a', '"${PROD_WIFI_PASSWORD}"', '0x76', 'null', '~', '- ', ': ', '{', '}', '[', ']', '"', "'", '#', '\t', '__proto__', 'constructor', 'env_001', '-1', '1e999', '.nan', '!!binary aGVsbG8=', '? ', '<<: *a'];

const mutated = fc.tuple(fc.array(fc.tuple(fc.nat(), fc.nat(8), fc.constantFrom(...FRAGMENTS, '\n', ' ', '')), { maxLength: 6 })).map(([edits]) => {
  let s = GUIDE_FLEET_YAML;
  for (const [at, del, ins] of edits) { const i = at % (s.length + 1); s = s.slice(0, i) + ins + s.slice(i + del); }
  return s;
});
const assembled = fc.array(fc.tuple(fc.constantFrom(...FRAGMENTS), fc.oneof(fc.string({ maxLength: 8 }), fc.integer().map(String), fc.constant(''))), { maxLength: 20 }).map((parts) => parts.map(([a, b]) => `${a}${b}`).join('\n'));
const fromValue = fc.anything({ maxDepth: 4 }).map((v) => { try { return YAML.stringify({ fleet: { devices: [{ device_id: 'env_001', overrides: v }], configuration: { base_config: 'production.toml', overrides: [v] } } }); } catch { return ''; } });

const fleetFile: FuzzTarget<string> = {
  name: 'fleet-file',
  arbitrary: fc.oneof(mutated, assembled, fromValue, fc.string({ maxLength: 200 })),
  check(text) {
    const r = parseFleetFile(text, { bases: GUIDE_BASES });
    if (r.ok) {
      if (!Array.isArray(r.warnings)) return 'warnings is not a list';
      const resolved = resolveFleet(r.fleet, env);
      for (const d of resolved) {
        if (d.config === null && d.errors.length === 0) return `device ${d.device} has neither a configuration nor an error`;
        for (const e of d.errors) if (typeof e.field !== 'string' || typeof e.reason !== 'string' || !e.message.startsWith(`device ${d.device}:`)) return `malformed device error ${JSON.stringify(e)}`;
        if (d.config && (!plain(d.config) || deviceConfigErrors(d.config).length)) return 'an accepted configuration is not plain or not valid';
      }
      return null;
    }
    if (!Array.isArray(r.errors) || r.errors.length === 0) return 'refused without an error';
    for (const e of r.errors) { const p = fleetErrorProblem(e); if (p) return p; }
    return null;
  },
};

const anyValue = fc.oneof(fc.integer({ min: -100_000, max: 100_000 }), fc.double(), fc.string({ maxLength: 40 }), fc.boolean(), fc.constant(null), fc.constant('${PROD_WIFI_PASSWORD}'), fc.constant(0x76), fc.anything({ maxDepth: 2 }));
const section = (keys: readonly string[]) => fc.dictionary(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 12 })), anyValue, { maxKeys: keys.length + 1 });
const structured = fc.record({
  device_id: fc.oneof(fc.constant('env_001'), fc.string({ maxLength: 70 }), anyValue),
  network: fc.oneof(section(Object.keys(PROD_CONFIG.network)).map((s) => ({ ...PROD_CONFIG.network, ...s })), anyValue),
  sensor: fc.oneof(section(Object.keys(PROD_CONFIG.sensor)).map((s) => ({ ...PROD_CONFIG.sensor, ...s })), anyValue),
  system: fc.oneof(section(Object.keys(PROD_CONFIG.system)), anyValue),
}, { requiredKeys: [] });

const deviceConfig: FuzzTarget<unknown> = {
  name: 'device-config',
  arbitrary: fc.oneof(structured, fc.anything({ maxDepth: 4 })),
  check(value) {
    const errs = deviceConfigErrors(value);
    if (!Array.isArray(errs) || errs.length > 20) return 'errors is not a bounded list';
    for (const e of errs) if (typeof e.field !== 'string' || typeof e.reason !== 'string' || e.reason === '' || !/^([A-Za-z_][A-Za-z0-9_]*|\["(?:[^"\\]|\\.)*"\])?((\.[A-Za-z_][A-Za-z0-9_]*)|\["(?:[^"\\]|\\.)*"\])*$/.test(e.field)) return `malformed error ${JSON.stringify(e)}`;
    if (errs.length === 0) {
      if (!/^[0-9a-f]{16}$/.test(configHash(value as DeviceConfig))) return 'hash of a valid configuration is malformed';
      if (!plain(value)) return 'accepted a configuration that is not plain JSON data';
    }
    return null;
  },
};

const inventory = [{ id: 'env_001', labels: new Map([['site', 'a']]) }, { id: 'env_002', labels: new Map([['site', 'b']]) }];
const commandRequest: FuzzTarget<unknown> = {
  name: 'command-request',
  arbitrary: fc.oneof(
    fc.record({ command: fc.oneof(fc.constantFrom('reset', 'restart', 'format'), anyValue), device: anyValue, devices: fc.array(anyValue, { maxLength: 4 }), selector: fc.oneof(fc.dictionary(fc.string({ maxLength: 6 }), anyValue), anyValue), all: anyValue, reason: anyValue, confirm: anyValue }, { requiredKeys: [] }),
    fc.record({ emergency: fc.oneof(fc.constantFrom('shutdown', 'resume'), anyValue), scope: fc.oneof(fc.constant('fleet'), fc.record({ site: anyValue }), anyValue), confirm: anyValue }, { requiredKeys: [] }),
    fc.anything({ maxDepth: 3 }),
  ),
  check(raw) {
    const r = parseCommandRequest(raw);
    if (!r.ok) return typeof r.field === 'string' && typeof r.reason === 'string' && r.reason !== '' ? null : `malformed refusal ${JSON.stringify(r)}`;
    const t = resolveTargets(r.value, inventory);
    if (t.ok && t.value.devices.some((d) => d.includes('/') || d.includes('+') || d.includes('#'))) return 'a target device id can break a topic';
    return null;
  },
};

// Compile the validators once here: their one-off cost is not any input's.
parseFleetFile(GUIDE_FLEET_YAML, { bases: GUIDE_BASES });
deviceConfigErrors({});
parseCommandRequest({ command: 'reset', device: 'env_001' });

export const targets: FuzzTarget[] = [fleetFile, deviceConfig, commandRequest];
