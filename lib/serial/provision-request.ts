/**
 * A provisioning message read into what fleet-serial writes: one device's configuration and its
 * port, or a batch. The node's defaults fill absent fields; secrets are refused here because they
 * come from credentials or the environment only. Answers with the field at fault, never throws.
 */
import { checkProvisioningConfig, type ProvisioningConfig } from '../../firmware/contract/provisioning';
import { portPathProblem } from './config';
import type { BatchItem } from './provisioning';

/** `code` names the catalog message the node shows when `reason` is absent. */
export type ProvisionRequestProblem = { readonly ok: false; readonly field: string; readonly code: 'payload' | 'secretInMessage' | 'invalid'; readonly reason?: string };
export type ProvisionRequest =
  | { readonly ok: true; readonly kind: 'one'; readonly port: string; readonly config: ProvisioningConfig }
  | { readonly ok: true; readonly kind: 'batch'; readonly items: readonly BatchItem[] }
  | ProvisionRequestProblem;

const SECRET_FIELDS = ['password', 'wifi_password', 'mqtt_password', 'wifiPassword', 'mqttPassword'];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function withDefaults(raw: unknown, field: string, defaults: Readonly<Record<string, unknown>>): Record<string, unknown> | ProvisionRequestProblem {
  if (!isRecord(raw)) return { ok: false, field, code: 'payload' };
  const found = SECRET_FIELDS.filter((k) => Object.hasOwn(raw, k));
  if (found.length > 0) {
    // The refused message goes on to a catch node: the secret is taken out of it first.
    for (const k of found) delete raw[k];
    return { ok: false, field: `${field}.${found[0]}`, code: 'secretInMessage' };
  }
  return { ...defaults, ...raw };
}

const isProblem = (v: Record<string, unknown> | ProvisionRequestProblem): v is ProvisionRequestProblem => v.ok === false && typeof v.code === 'string';

export function readProvisionRequest(payload: unknown, msgPort: unknown, defaults: Readonly<Record<string, unknown>>, defaultPort: string): ProvisionRequest {
  if (Array.isArray(payload)) {
    const items: BatchItem[] = [];
    for (const entry of payload) {
      const cfg = withDefaults(entry, 'payload[]', defaults);
      if (isProblem(cfg)) return cfg;
      const { serial_port: port, ...rest } = cfg;
      const path = port === undefined || port === '' ? defaultPort : port;
      const problem = portPathProblem(path);
      if (problem) return { ok: false, field: 'payload[].serial_port', code: 'invalid', reason: problem };
      items.push({ port: path as string, config: rest });
    }
    return { ok: true, kind: 'batch', items };
  }
  const cfg = withDefaults(payload, 'payload', defaults);
  if (isProblem(cfg)) return cfg;
  const path = msgPort === undefined || msgPort === '' ? defaultPort : msgPort;
  const problem = portPathProblem(path);
  if (problem) return { ok: false, field: 'msg.port', code: 'invalid', reason: problem };
  const checked = checkProvisioningConfig(cfg);
  if (!checked.ok) return { ok: false, field: `payload.${checked.field}`, code: 'invalid', reason: checked.reason };
  return { ok: true, kind: 'one', port: path as string, config: checked.value };
}
