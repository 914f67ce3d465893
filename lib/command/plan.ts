/**
 * What a push would do, per device: a diff of the effective configuration against the one last
 * pushed (only changed devices get a message), and the messages themselves. A dry run is the plan
 * without the messages. Everything in a plan is loggable: configurations hold references, not secrets.
 */
import { configHash, deviceConfigUpdateErrors, guideRuntimeFields, type ConfigScalar, type DeviceConfig } from '../../firmware/contract/device-config';
import { topicFor } from '../../firmware/contract/topics';
import type { DeviceProblem, ResolvedDevice } from './resolve';
import { cleartextProblem, secretReferences, withSecrets, type BrokerConnection, type SecretSource } from './secrets';

/** What the registry keeps per device after a push is acknowledged (or sent, if the caller chooses). */
export interface PushedState {
  readonly version: number;
  readonly hash: string;
  readonly config: DeviceConfig;
}

export interface ConfigChange {
  /** Dotted path, e.g. `sensor.measurement_interval_seconds`. */
  readonly field: string;
  /** Undefined: not set before / not set after. */
  readonly from?: ConfigScalar;
  readonly to?: ConfigScalar;
}

export type PlanAction = 'push' | 'unchanged' | 'invalid' | 'removed';

export interface PlanEntry {
  readonly device: string;
  readonly action: PlanAction;
  /** The version the push carries (last + 1), or the current one when unchanged. */
  readonly version: number | null;
  readonly hash: string | null;
  readonly changes: readonly ConfigChange[];
  readonly errors: readonly DeviceProblem[];
  readonly warnings: readonly DeviceProblem[];
}

export interface PlanSummary {
  readonly devices: number;
  readonly push: number;
  readonly unchanged: number;
  readonly invalid: number;
  readonly removed: number;
}

export interface Plan {
  readonly entries: readonly PlanEntry[];
  readonly summary: PlanSummary;
}

export interface PlanOptions {
  /** Push these devices even when unchanged (e.g. after rotating a secret's value). */
  readonly force?: ReadonlySet<string> | 'all';
  /** Only plan for these devices (a target list from the message). */
  readonly only?: ReadonlySet<string>;
}

function leaves(c: DeviceConfig | undefined): Map<string, ConfigScalar> {
  const out = new Map<string, ConfigScalar>();
  if (!c) return out;
  for (const [section, values] of Object.entries(c)) {
    if (section === 'device_id' || values === null || typeof values !== 'object') continue;
    for (const [k, v] of Object.entries(values as Record<string, ConfigScalar>)) out.set(`${section}.${k}`, v);
  }
  return out;
}

export function diffConfig(before: DeviceConfig | undefined, after: DeviceConfig): ConfigChange[] {
  const a = leaves(before);
  const b = leaves(after);
  const out: ConfigChange[] = [];
  for (const [k, v] of b) if (!a.has(k)) out.push({ field: k, to: v }); else if (a.get(k) !== v) out.push({ field: k, from: a.get(k), to: v });
  for (const [k, v] of a) if (!b.has(k)) out.push({ field: k, from: v });
  return out.sort((x, y) => (x.field < y.field ? -1 : x.field > y.field ? 1 : 0));
}

export function planPush(resolved: readonly ResolvedDevice[], last: ReadonlyMap<string, PushedState>, options: PlanOptions = {}): Plan {
  const entries: PlanEntry[] = [];
  const listed = new Set<string>();
  const forced = (d: string) => options.force === 'all' || (options.force instanceof Set && options.force.has(d));
  for (const r of resolved) {
    listed.add(r.device);
    if (options.only && !options.only.has(r.device)) continue;
    const prev = last.get(r.device);
    if (!r.config || !r.hash) {
      entries.push({ device: r.device, action: 'invalid', version: prev?.version ?? null, hash: null, changes: [], errors: r.errors, warnings: r.warnings });
      continue;
    }
    const changed = !prev || prev.hash !== r.hash;
    const push = changed || forced(r.device);
    // Equal hashes mean equal stored forms: no diff to compute.
    const changes = changed ? diffConfig(prev?.config, r.config) : [];
    entries.push({ device: r.device, action: push ? 'push' : 'unchanged', version: push ? (prev?.version ?? 0) + 1 : prev!.version, hash: r.hash, changes, errors: [], warnings: r.warnings });
  }
  // Devices pushed before but gone from the file: reported, never sent anything.
  for (const [device, prev] of last) {
    if (listed.has(device) || (options.only && !options.only.has(device))) continue;
    entries.push({ device, action: 'removed', version: prev.version, hash: prev.hash, changes: [], errors: [], warnings: [] });
  }
  const count = (a: PlanAction) => entries.filter((e) => e.action === a).length;
  return { entries, summary: { devices: entries.length, push: count('push'), unchanged: count('unchanged'), invalid: count('invalid'), removed: count('removed') } };
}

export interface PushMessage {
  readonly device: string;
  readonly topic: string;
  /** Holds secret values: hand it to the broker and nothing else. */
  readonly payload: Readonly<Record<string, unknown>>;
  readonly version: number;
  readonly hash: string;
  readonly requestId: string;
  /** The stored form (references only), for state and logs. */
  readonly config: DeviceConfig;
}

export interface PushRefusal {
  readonly device: string;
  readonly field: string;
  readonly reason: string;
}

export interface PushBuildOptions {
  readonly broker: BrokerConnection;
  readonly allowCleartextSecrets?: boolean;
  /** Prefix of each message's request_id; the device echoes it. */
  readonly requestPrefix?: string;
}

/**
 * The config/update/{device} messages for the plan's `push` entries. A device whose secrets are
 * missing, or whose message would carry a secret over an unencrypted connection, is refused
 * with the reason; the others still go.
 */
export function buildPushMessages(plan: Plan, resolved: ReadonlyMap<string, ResolvedDevice>, source: SecretSource, options: PushBuildOptions): { messages: PushMessage[]; refused: PushRefusal[] } {
  const messages: PushMessage[] = [];
  const refused: PushRefusal[] = [];
  for (const e of plan.entries) {
    if (e.action !== 'push' || e.version === null || e.hash === null) continue;
    const r = resolved.get(e.device);
    if (!r?.config) { refused.push({ device: e.device, field: '', reason: 'has no resolved configuration' }); continue; }
    // The hash is re-derived so a plan edited between dry run and push cannot send a stale one.
    if (configHash(r.config) !== e.hash) { refused.push({ device: e.device, field: '', reason: 'changed since the plan was made; plan again' }); continue; }
    const carriesSecret = secretReferences(r.config).length > 0;
    const clear = cleartextProblem(carriesSecret, options.broker, options.allowCleartextSecrets);
    if (clear) { refused.push({ device: e.device, field: secretReferences(r.config).map((s) => s.field).join(', '), reason: clear }); continue; }
    const filled = withSecrets(r.config, source);
    if (!filled.ok) { for (const p of filled.problems) refused.push({ device: e.device, field: p.field, reason: p.reason }); continue; }
    const requestId = `${options.requestPrefix ?? 'push'}-${e.device}-${e.version}`.slice(0, 64);
    // The guide's firmware reads its flat DeviceConfig fields from the payload; ours reads `config`.
    const payload = { config_version: e.version, config_hash: e.hash, request_id: requestId, config: filled.config, ...guideRuntimeFields(filled.config) };
    const bad = deviceConfigUpdateErrors(payload);
    if (bad.length) { refused.push({ device: e.device, field: bad[0].field, reason: bad[0].reason }); continue; }
    messages.push({ device: e.device, topic: topicFor('config.update', { device: e.device }), payload, version: e.version, hash: e.hash, requestId, config: r.config });
  }
  return { messages, refused };
}
