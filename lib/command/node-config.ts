/**
 * fleet-command's saved configuration, read by the runtime and by the editor (the same rules):
 * the mode, the fleet file, targets, the broker connection facts, the secret names whose values
 * are credentials, and the acknowledgement timing. Secret values are never part of it.
 */
import { REFERENCE } from '../../firmware/contract/device-config';
import { deviceIdProblem } from '../../firmware/contract/identity';

export type CommandMode = 'push' | 'reset' | 'emergency';
export const COMMAND_MODES: readonly CommandMode[] = ['push', 'reset', 'emergency'];

export interface CommandNodeConfig {
  readonly mode: CommandMode;
  /** YAML; empty when pushes come from msg.payload. */
  readonly fleetFile: string;
  readonly dryRun: boolean;
  /** Device ids for reset (empty: from the message). */
  readonly targets: readonly string[];
  /** Emergency scope: `fleet` or `site:<site>` / `location:<location>`. */
  readonly scope: string;
  /** The mqtt-broker config node the `mqtt out` uses; its URL and TLS switch decide "encrypted". */
  readonly broker: string;
  readonly brokerUrl: string;
  readonly brokerTls: boolean;
  readonly allowCleartextSecrets: boolean;
  readonly broadcast: boolean;
  readonly ackTimeoutS: number;
  readonly retries: number;
  /** The reference names (`${NAME}`) the two credential fields answer. */
  readonly wifiSecretName: string;
  readonly mqttSecretName: string;
  readonly registry: string;
}

export interface SavedCommandConfig {
  mode?: unknown; fleetFile?: unknown; dryRun?: unknown; targets?: unknown; scope?: unknown; broker?: unknown; brokerUrl?: unknown; brokerTls?: unknown;
  allowCleartextSecrets?: unknown; broadcast?: unknown; ackTimeoutS?: unknown; retries?: unknown; wifiSecretName?: unknown; mqttSecretName?: unknown; registry?: unknown;
}

export const COMMAND_DEFAULTS: CommandNodeConfig = {
  mode: 'push', fleetFile: '', dryRun: false, targets: [], scope: 'fleet', broker: '', brokerUrl: '', brokerTls: false,
  allowCleartextSecrets: false, broadcast: false, ackTimeoutS: 60, retries: 2, wifiSecretName: 'PROD_WIFI_PASSWORD', mqttSecretName: 'PROD_MQTT_PASSWORD', registry: '',
};

type Result = { ok: true; value: CommandNodeConfig } | { ok: false; field: string; reason: string };

const absent = (v: unknown): boolean => v === undefined || v === null || v === '';

function num(v: unknown, field: string, min: number, max: number, dflt: number): number | { field: string; reason: string } {
  if (absent(v)) return dflt;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < min || n > max) return { field, reason: `must be a number from ${min} to ${max}` };
  return n;
}

/** Parses a scope text: `fleet`, `site:<name>` or `location:<name>`. */
export function parseScopeText(s: string): 'fleet' | { site: string } | { location: string } | null {
  const t = s.trim();
  if (t === 'fleet') return 'fleet';
  const m = /^(site|location):(.+)$/.exec(t);
  if (!m || m[2].trim() === '') return null;
  return m[1] === 'site' ? { site: m[2].trim() } : { location: m[2].trim() };
}

/** Comma- or newline-separated ids, or a list. */
export function parseTargetList(v: unknown): { ok: true; value: string[] } | { ok: false; reason: string } {
  if (absent(v)) return { ok: true, value: [] };
  const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(/[\s,]+/).filter((x) => x !== '') : null;
  if (!list) return { ok: false, reason: 'must be device ids separated by commas' };
  for (const id of list) {
    const p = deviceIdProblem(id);
    if (p) return { ok: false, reason: `${String(id)}: ${p}` };
  }
  return { ok: true, value: [...new Set(list as string[])] };
}

export function parseCommandConfig(def: SavedCommandConfig): Result {
  const mode = absent(def.mode) ? COMMAND_DEFAULTS.mode : def.mode;
  if (typeof mode !== 'string' || !(COMMAND_MODES as readonly string[]).includes(mode)) return { ok: false, field: 'mode', reason: 'must be push, reset or emergency' };
  const fleetFile = absent(def.fleetFile) ? '' : def.fleetFile;
  if (typeof fleetFile !== 'string' || fleetFile.length > 4 * 1024 * 1024) return { ok: false, field: 'fleetFile', reason: 'must be YAML text of at most 4 MiB' };
  const targets = parseTargetList(def.targets);
  if (!targets.ok) return { ok: false, field: 'targets', reason: targets.reason };
  const scope = absent(def.scope) ? 'fleet' : def.scope;
  if (typeof scope !== 'string' || parseScopeText(scope) === null) return { ok: false, field: 'scope', reason: 'must be fleet, site:<site> or location:<location>' };
  const brokerUrl = absent(def.brokerUrl) ? '' : def.brokerUrl;
  if (typeof brokerUrl !== 'string' || (brokerUrl !== '' && !/^(mqtts?|tcp|ssl|tls|wss?):\/\/[^\s]+$/.test(brokerUrl))) return { ok: false, field: 'brokerUrl', reason: 'must be a broker URL such as mqtts://broker:8883' };
  const timeout = num(def.ackTimeoutS, 'ackTimeoutS', 1, 86_400, COMMAND_DEFAULTS.ackTimeoutS);
  if (typeof timeout !== 'number') return { ok: false, ...timeout };
  const retries = num(def.retries, 'retries', 0, 10, COMMAND_DEFAULTS.retries);
  if (typeof retries !== 'number' || !Number.isInteger(retries)) return { ok: false, ...(typeof retries === 'number' ? { field: 'retries', reason: 'must be a whole number from 0 to 10' } : retries) };
  const names: Record<'wifiSecretName' | 'mqttSecretName', string> = { wifiSecretName: COMMAND_DEFAULTS.wifiSecretName, mqttSecretName: COMMAND_DEFAULTS.mqttSecretName };
  for (const k of ['wifiSecretName', 'mqttSecretName'] as const) {
    const v = def[k];
    if (absent(v)) continue;
    if (typeof v !== 'string' || !REFERENCE.test(`\${${v}}`)) return { ok: false, field: k, reason: 'must be a reference name in capitals, e.g. PROD_WIFI_PASSWORD' };
    names[k] = v;
  }
  const bool = (v: unknown) => v === true || v === 'true';
  return {
    ok: true,
    value: {
      mode: mode as CommandMode, fleetFile, dryRun: bool(def.dryRun), targets: targets.value, scope: scope.trim(),
      broker: typeof def.broker === 'string' ? def.broker : '', brokerUrl, brokerTls: bool(def.brokerTls),
      allowCleartextSecrets: bool(def.allowCleartextSecrets), broadcast: bool(def.broadcast), ackTimeoutS: timeout, retries,
      ...names, registry: typeof def.registry === 'string' ? def.registry : '',
    },
  };
}
