/**
 * `${NAME}` references (as in the guide's prod.config.toml) resolved from a map the node builds
 * from Node-RED credentials and environment variables. A resolved secret only ever exists inside
 * the payload handed to the broker; everything else (logs, status, debug, audit, dry runs) goes
 * through a Redactor built from the same values.
 */
import { DEVICE_CONFIG_FIELDS, FIELDS_BY_NAME, REFERENCE, referenceName, type DeviceConfig } from '../../firmware/contract/device-config';

/** Where secret values come from: credentials first, then environment. Only own entries count. */
export type SecretSource = ReadonlyMap<string, string>;

export function secretSource(...layers: ReadonlyArray<Readonly<Record<string, string | undefined>> | ReadonlyMap<string, string> | undefined>): SecretSource {
  const out = new Map<string, string>();
  // Later layers lose: credentials are passed before the process environment.
  for (const layer of [...layers].reverse()) {
    if (!layer) continue;
    const entries = layer instanceof Map ? [...layer.entries()] : Object.entries(layer as Record<string, string | undefined>);
    for (const [k, v] of entries) if (typeof v === 'string' && v !== '' && REFERENCE.test(`\${${k}}`)) out.set(k, v);
  }
  return out;
}

export const REDACTED = '[redacted]';

const SECRET_NAME = /PASS|SECRET|TOKEN|API_?KEY|PRIVATE|CREDENTIAL/;

const SECRET_KEY = /pass(word)?|secret|token|api[_-]?key|private[_-]?key|credential/i;

/**
 * Replaces every known secret value wherever it appears in a string, and the value of every
 * secret-looking key. Values shorter than 4 characters are still redacted as whole strings but
 * not searched for inside others (a 1-letter "secret" would erase half the log).
 */
export class Redactor {
  private readonly values: string[];
  private readonly whole: Set<string>;

  constructor(secrets: Iterable<string>) {
    const all = [...new Set([...secrets].filter((s) => s.length > 0))];
    this.whole = new Set(all);
    this.values = all.filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  }

  static from(source: SecretSource): Redactor {
    return new Redactor(source.values());
  }

  text(s: string): string {
    if (this.whole.has(s)) return REDACTED;
    let out = s;
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out;
  }

  /** A redacted deep copy: plain data only (functions, symbols dropped; cycles cut). */
  value(v: unknown, depth = 0, seen: Set<object> = new Set()): unknown {
    if (typeof v === 'string') return this.text(v);
    if (v === null || typeof v !== 'object') return typeof v === 'function' || typeof v === 'symbol' ? undefined : v;
    if (seen.has(v) || depth > 32) return '[cut]';
    seen.add(v);
    if (Array.isArray(v)) return v.map((x) => this.value(x, depth + 1, seen));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      // A secret-named field keeps a reference visible (it is not the secret) and loses anything else.
      out[k] = SECRET_KEY.test(k) && typeof x === 'string' && !REFERENCE.test(x) ? REDACTED : this.value(x, depth + 1, seen);
    }
    seen.delete(v);
    return out;
  }
}

export interface SecretProblem {
  readonly field: string;
  readonly reason: string;
}

/** Resolves non-secret references (e.g. `${PROD_MQTT_BROKER}`) into a stored configuration; secret fields stay references. */
export function resolvePlainReferences(section: Readonly<Record<string, unknown>>, sectionName: string, source: SecretSource, problems: SecretProblem[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(section)) {
    const secret = FIELDS_BY_NAME.get(k)?.secret === true;
    const name = referenceName(v);
    if (name === null || secret) { out[k] = v; continue; }
    // A plain field is stored, diffed and shown: a secret resolved into it would be in all of those.
    if (SECRET_NAME.test(name)) { problems.push({ field: `${sectionName}.${k}`, reason: `refers to \${${name}}, which names a secret; only wifi_password and mqtt_password may refer to secrets` }); continue; }
    const value = source.get(name);
    if (value === undefined) problems.push({ field: `${sectionName}.${k}`, reason: `refers to \${${name}}, which is neither a credential nor an environment variable` });
    else out[k] = numericIfField(k, value);
  }
  return out;
}

// Environment values are text; a reference in a numeric field (${MQTT_PORT}) reads as a number.
function numericIfField(name: string, value: string): string | number | boolean {
  if (/_port$|_seconds$|_minutes$|_address$|_offset/.test(name) && /^-?\d+(\.\d+)?$|^0x[0-9a-f]+$/i.test(value.trim())) return Number(value.trim());
  if (name === 'tls_enabled' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  return value;
}

/** The secret references a configuration holds, by field. */
export function secretReferences(config: DeviceConfig): Array<{ field: string; name: string }> {
  const out: Array<{ field: string; name: string }> = [];
  for (const f of DEVICE_CONFIG_FIELDS) {
    if (!f.secret) continue;
    const section = config[f.section];
    const name = referenceName(section?.[f.name]);
    if (name !== null) out.push({ field: `${f.section}.${f.name}`, name });
  }
  return out;
}

/** WPA2/WPA3-Personal passphrases are 8 to 63 characters. */
const SECRET_RULES: ReadonlyMap<string, (v: string) => string | null> = new Map<string, (v: string) => string | null>([
  ['network.wifi_password', (v: string) => (v.length < 8 || v.length > 63 ? 'must be 8 to 63 characters (a WPA passphrase)' : null)],
  ['network.mqtt_password', (v: string) => (v.length > 256 ? 'must be at most 256 characters' : null)],
]);

/**
 * The configuration as the device gets it: secret references replaced by their values. Problems
 * name the field and the reference, never the value.
 */
export function withSecrets(config: DeviceConfig, source: SecretSource): { ok: true; config: DeviceConfig; used: string[] } | { ok: false; problems: SecretProblem[] } {
  const problems: SecretProblem[] = [];
  const used: string[] = [];
  const copy: Record<string, unknown> = { ...config };
  for (const ref of secretReferences(config)) {
    const value = source.get(ref.name);
    if (value === undefined) { problems.push({ field: ref.field, reason: `refers to \${${ref.name}}, which is neither a credential nor an environment variable` }); continue; }
    const bad = SECRET_RULES.get(ref.field)?.(value);
    if (bad) { problems.push({ field: ref.field, reason: `\${${ref.name}} ${bad}` }); continue; }
    const [section, leaf] = ref.field.split('.');
    copy[section] = { ...(copy[section] as Record<string, unknown>), [leaf]: value };
    used.push(value);
  }
  return problems.length ? { ok: false, problems } : { ok: true, config: copy as unknown as DeviceConfig, used };
}

export interface BrokerConnection {
  /** The URL the node's broker config connects with, e.g. mqtts://broker:8883 or mqtt://localhost:1883. */
  readonly url?: string;
  /** The broker node's own TLS switch, when the URL alone does not say. */
  readonly tls?: boolean;
}

const ENCRYPTED_SCHEMES = new Set(['mqtts:', 'ssl:', 'tls:', 'wss:']);

/** True when the connection the message travels on is encrypted. An unparseable URL counts as not. */
export function isEncrypted(conn: BrokerConnection): boolean {
  if (conn.tls === true) return true;
  if (!conn.url) return false;
  try {
    return ENCRYPTED_SCHEMES.has(new URL(conn.url).protocol);
  } catch {
    return false;
  }
}

/**
 * Null when the message may be sent; otherwise why not. A message that carries a secret may only
 * go over an encrypted connection unless the operator set `allowCleartextSecrets`.
 */
export function cleartextProblem(carriesSecret: boolean, conn: BrokerConnection, allowCleartextSecrets = false): string | null {
  if (!carriesSecret || allowCleartextSecrets || isEncrypted(conn)) return null;
  return `refused: the message carries a secret and the broker connection${conn.url ? ` (${safeUrl(conn.url)})` : ''} is not encrypted; use mqtts:// or set allowCleartextSecrets`;
}

/** A URL without its user info, for messages. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
