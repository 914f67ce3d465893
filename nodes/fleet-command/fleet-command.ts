/**
 * fleet-command: configuration pushes from a fleet file, resets and emergency stops, with their
 * acknowledgements. Output 1 is for a core `mqtt out` (the only place a secret value appears),
 * output 2 per-device results and summaries, output 3 alerts in the shared shape.
 */
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';

import { CONFIG_ACK_PATTERN } from '../../firmware/contract/device-config';
import { parseConfigPatch, parseFleet, parseFleetFile, FLEET_FILE_LIMITS, type FleetError, type FleetModel, type FleetParse, type Patch } from '../../lib/command/fleet-file';
import { parseCommandConfig, parseScopeText, parseTargetList, type CommandNodeConfig } from '../../lib/command/node-config';
import type { PushResult } from '../../lib/command/ack';
import type { Plan } from '../../lib/command/plan';
import { FleetResolver } from '../../lib/command/resolve';
import { secretSource, type BrokerConnection } from '../../lib/command/secrets';
import { CommandError, CommandService, type OutMessage } from '../../lib/command/service';
import { defineNode, type NodeKit, type Send } from '../shared/kit';
import { registryOf } from '../shared/registry-node';
import { FLEET_COMMAND_VERSION, migrations } from './migrations';

type InMessage = NodeMessageInFlow & Record<string, unknown>;
type Msg = NodeMessage & Record<string, unknown>;

const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
const REF = /\$\{([A-Z][A-Z0-9_]{0,63})\}/g;
// Names whose values are hidden in every output (the secrets module refuses them in plain fields).
const SECRET_NAME = /PASS|SECRET|TOKEN|API_?KEY|PRIVATE|CREDENTIAL/;
const ACK_TOPIC = new RegExp(`^${CONFIG_ACK_PATTERN.replace('{device}', '([^/]+)')}$`);

interface Credentials { wifiPassword?: string; mqttPassword?: string }
interface BrokerNode extends Node { brokerurl?: unknown; usetls?: unknown; broker?: unknown; port?: unknown }

/** The names a text refers to with ${NAME}: only those environment variables are read. */
function referencedNames(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(REF)) out.add(m[1]);
  return out;
}

function textOf(payload: unknown): string | null {
  if (typeof payload === 'string') return payload;
  if (Buffer.isBuffer(payload)) return payload.toString('utf8');
  return null;
}

function fleetErrorText(errors: readonly FleetError[]): string {
  const shown = errors.slice(0, 5).map((e) => e.message).join('; ');
  return errors.length > 5 ? `${shown}; and ${errors.length - 5} more` : shown;
}

/** The broker connection the `mqtt out` uses: from the named mqtt-broker node, else the node's own fields. */
function brokerOf(RED: NodeAPI, config: CommandNodeConfig): BrokerConnection {
  const b = config.broker ? RED.nodes.getNode(config.broker) as BrokerNode | null : null;
  if (b) {
    const url = typeof b.brokerurl === 'string' && b.brokerurl ? b.brokerurl
      : typeof b.broker === 'string' ? (/^[a-z]+:\/\//.test(b.broker) ? b.broker : `mqtt://${b.broker}:${String(b.port ?? 1883)}`) : undefined;
    return { ...(url ? { url } : {}), tls: b.usetls === true };
  }
  return { ...(config.brokerUrl ? { url: config.brokerUrl } : {}), tls: config.brokerTls };
}

function create(kit: NodeKit<CommandNodeConfig>) {
  const { RED, node, config, status, t } = kit;
  const creds = ((node as Node & { credentials?: Credentials }).credentials ?? {}) as Credentials;
  const fleetReg = () => registryOf(RED, config.registry || undefined);

  /** Credentials first, then the environment variables the texts name. */
  const sourceFor = (texts: string[]) => {
    const names = new Set<string>();
    for (const x of texts) for (const n of referencedNames(x)) names.add(n);
    const env: Record<string, string | undefined> = {};
    for (const n of names) env[n] = process.env[n];
    const own: Record<string, string | undefined> = { [config.wifiSecretName]: creds.wifiPassword, [config.mqttSecretName]: creds.mqttPassword };
    const source = secretSource(own, env);
    const hide = [creds.wifiPassword, creds.mqttPassword, ...[...names].filter((n) => SECRET_NAME.test(n)).map((n) => process.env[n])]
      .filter((v): v is string => typeof v === 'string' && v !== '');
    return { source, hide };
  };

  const initial = sourceFor([config.fleetFile]);
  const service = new CommandService(kit.state, initial.source, {
    broker: brokerOf(RED, config), allowCleartextSecrets: config.allowCleartextSecrets, broadcast: config.broadcast,
    ack: { timeoutMs: config.ackTimeoutS * 1000, retries: config.retries },
  });
  service.setSecrets(initial.source, initial.hide);
  const clean = <T>(v: T): T => service.redact.value(v) as T;
  const err = (e: Error): Error => { e.message = service.redact.text(e.message); return e; };

  const configured: FleetParse | null = config.fleetFile.trim() ? parseFleetFile(config.fleetFile, { file: 'fleet file' }) : null;

  const mqttOut = (m: OutMessage): Msg => ({ topic: m.topic, payload: m.payload, qos: 1, retain: false });
  const resultMsg = (r: PushResult): Msg => ({ topic: `fleet-command/result/${r.device}`, device: r.device, payload: clean(r) });
  const summaryMsg = (extra: Record<string, unknown> = {}): Msg => ({ topic: 'fleet-command/summary', payload: clean({ ...extra, acks: service.summary(), pending: service.pendingCount(), commanded: service.commanded().length }) });

  const showStatus = () => status.set(() => {
    const s = service.summary();
    const stopped = service.commanded().length;
    const fill = s.failed + s.rejected > 0 ? 'red' : s.pending > 0 || stopped > 0 ? 'yellow' : 'green';
    return { fill, shape: 'dot', text: t('status.counts', { pending: s.pending, applied: s.applied, failed: s.failed + s.rejected, stopped }) };
  });

  const who = (msg: InMessage): string => (typeof msg.by === 'string' && msg.by ? msg.by.slice(0, 128) : node.name || `node ${node.id}`);

  function fleetFrom(msg: InMessage): { fleet: FleetModel; text: string } {
    const text = textOf(msg.payload);
    let parsed: FleetParse | null;
    let raw = config.fleetFile;
    if (text !== null && text.trim() !== '') { parsed = parseFleetFile(text, { file: 'msg.payload' }); raw = text; }
    else if (isObj(msg.payload) && isObj(msg.payload.fleet)) {
      if (JSON.stringify(msg.payload).length > FLEET_FILE_LIMITS.maxBytes) throw new CommandError('invalid', 'fleet-command: msg.payload is larger than 4 MiB');
      parsed = parseFleet(msg.payload, { file: 'msg.payload' });
      raw = JSON.stringify(msg.payload);
    } else parsed = configured;
    if (!parsed) throw new CommandError('invalid', 'fleet-command: no fleet file: set one in the node or send it as msg.payload (YAML text or an object with `fleet`)');
    if (!parsed.ok) throw new CommandError('invalid', `fleet-command: ${fleetErrorText(parsed.errors)}`);
    return { fleet: parsed.fleet, text: raw };
  }

  function runtimeOverrides(msg: InMessage): { all?: Patch; byDevice?: Map<string, Patch> } {
    const out: { all?: Patch; byDevice?: Map<string, Patch> } = {};
    if (msg.overrides !== undefined) {
      const p = parseConfigPatch(msg.overrides, 'msg', ['overrides']);
      if (!p.ok) throw new CommandError('invalid', `fleet-command: ${fleetErrorText(p.errors)}`);
      out.all = p.patch;
    }
    if (msg.deviceOverrides !== undefined) {
      if (!isObj(msg.deviceOverrides)) throw new CommandError('invalid', 'fleet-command: msg.deviceOverrides must be a mapping of device id to fields');
      out.byDevice = new Map();
      for (const [d, raw] of Object.entries(msg.deviceOverrides)) {
        const p = parseConfigPatch(raw, 'msg', ['deviceOverrides', d]);
        if (!p.ok) throw new CommandError('invalid', `fleet-command: ${fleetErrorText(p.errors)}`);
        out.byDevice.set(d, p.patch);
      }
    }
    return out;
  }

  function planPayload(plan: Plan) {
    return clean({ summary: plan.summary, devices: plan.entries.map((e) => ({ device: e.device, action: e.action, version: e.version, hash: e.hash, changes: e.changes, errors: e.errors.map((x) => x.message), warnings: e.warnings.map((x) => x.message) })) });
  }

  function push(msg: InMessage, send: Send): void {
    const { fleet, text } = fleetFrom(msg);
    const runtime = runtimeOverrides(msg);
    const { source, hide } = sourceFor([text, JSON.stringify(msg.overrides ?? null), JSON.stringify(msg.deviceOverrides ?? null)]);
    service.setSecrets(source, hide);
    const only = msg.targets !== undefined ? parseTargetList(msg.targets) : { ok: true as const, value: [] };
    if (!only.ok) throw new CommandError('invalid', `fleet-command: msg.targets: ${only.reason}`);
    const dryRun = msg.dryRun === undefined ? config.dryRun : msg.dryRun === true;
    const force = msg.force === true ? 'all' as const : Array.isArray(msg.force) ? new Set(msg.force.map(String)) : undefined;
    const out = service.push(fleet, { runtime, dryRun, ...(force ? { force } : {}), ...(only.value.length ? { only: new Set(only.value) } : {}), who: who(msg) });
    const results: Msg[] = out.superseded.map(resultMsg);
    results.push({ topic: dryRun ? 'fleet-command/dry-run' : 'fleet-command/plan', payload: planPayload(out.plan) });
    for (const m of out.messages) { const r = service.results().find((x) => x.device === m.device); if (r) results.push(resultMsg(r)); }
    results.push(summaryMsg({ plan: out.plan.summary, refused: out.refused.length }));
    send([out.messages.map(mqttOut), results, null]);
    showStatus();
    const invalid = out.plan.entries.filter((e) => e.action === 'invalid').flatMap((e) => e.errors.map((x) => x.message));
    const refused = out.refused.map((r) => `device ${r.device}: ${r.field ? `${r.field} ` : ''}${r.reason}`);
    // Valid devices went; the invalid ones did not, and a catch node hears which and why.
    if (invalid.length || refused.length) throw err(new CommandError('invalid', `fleet-command: not sent: ${[...invalid, ...refused].slice(0, 10).join('; ')}${invalid.length + refused.length > 10 ? ` and ${invalid.length + refused.length - 10} more` : ''}`));
  }

  function commandRequest(msg: InMessage): Record<string, unknown> {
    const p = isObj(msg.payload) ? msg.payload : {};
    const confirm = typeof p.confirm === 'string' ? p.confirm : typeof msg.confirm === 'string' ? msg.confirm : undefined;
    const reason = typeof p.reason === 'string' ? p.reason : typeof msg.reason === 'string' ? msg.reason : undefined;
    const extra = { ...(confirm !== undefined ? { confirm } : {}), ...(reason !== undefined ? { reason } : {}) };
    if (p.command !== undefined || p.emergency !== undefined) return { ...p, ...extra };
    if (config.mode === 'reset') {
      const listed = msg.targets !== undefined ? parseTargetList(msg.targets) : { ok: true as const, value: [...config.targets] };
      if (!listed.ok) throw new CommandError('invalid', `fleet-command: msg.targets: ${listed.reason}`);
      return { command: 'reset', ...(listed.value.length ? { devices: listed.value } : { all: true }), ...extra };
    }
    const scope = msg.scope !== undefined ? msg.scope : parseScopeText(config.scope);
    return { emergency: typeof msg.action === 'string' ? msg.action : 'shutdown', scope, ...extra };
  }

  function command(msg: InMessage, send: Send): void {
    const known = fleetReg() ? [...fleetReg()!.records()].map((r) => r.id) : [];
    const out = service.command(commandRequest(msg), { who: who(msg), known });
    const results: Msg[] = [{ topic: `fleet-command/${out.kind}`, payload: clean({ what: out.what, scope: out.targets.scope, devices: out.targets.devices, sent: out.messages.length }) }];
    if (out.commanded) results.push({ topic: 'commanded', payload: { action: out.commanded.action, devices: [...out.commanded.devices] } });
    send([out.messages.map((m) => ({ topic: m.topic, payload: m.payload, qos: 1, retain: false })), results, out.alert ? { topic: `alert/${out.alert.labels.alertname}/fleet`, payload: clean(out.alert) } : null]);
    showStatus();
  }

  function ack(device: string, payload: unknown, send: Send): void {
    let body = payload;
    const text = textOf(payload);
    if (text !== null) {
      try { body = JSON.parse(text); } catch { throw new CommandError('invalid', `fleet-command: config/ack/${device}: payload is not JSON`); }
    }
    const r = service.reply(device, body);
    if (r) { send([null, [resultMsg(r), summaryMsg()], null]); showStatus(); }
  }

  kit.every(1000, () => {
    const due = service.tick();
    if (due.resend.length === 0 && due.failed.length === 0) return;
    kit.send([due.resend.map(mqttOut), [...due.failed.map(resultMsg), summaryMsg()], null]);
    showStatus();
  });

  return {
    ready() {
      service.restore();
      if (configured?.ok) service.setFleet(configured.fleet);
      else if (configured && !configured.ok) node.warn(service.redact.text(`fleet-command: ${fleetErrorText(configured.errors)}`));
      status.now({ fill: 'grey', shape: 'ring', text: t('status.ready', { mode: config.mode }) });
    },
    input(msg: InMessage, send: Send): void {
      try {
        const topic = typeof msg.topic === 'string' ? msg.topic : '';
        const ackMatch = ACK_TOPIC.exec(topic);
        if (ackMatch) { ack(ackMatch[1], msg.payload, send); return; }
        // A decoded status or health from fleet-decode: its config_version/config_hash settle a push.
        const dev = isObj(msg.device) && typeof msg.device.id === 'string' ? msg.device.id : null;
        if (dev !== null && typeof msg.kind === 'string') {
          if (msg.kind === 'config-ack') { ack(dev, msg.payload, send); return; }
          if (isObj(msg.payload)) {
            const r = service.status(dev, msg.payload);
            if (r) { send([null, [resultMsg(r), summaryMsg()], null]); showStatus(); }
          }
          return;
        }
        if (topic === 'fleet-command/summary') { send([null, { ...summaryMsg(), results: clean(service.results()), audit: service.auditEntries().slice(-50) }, null]); return; }
        const p = msg.payload;
        if (isObj(p) && (p.command !== undefined || p.emergency !== undefined)) { command(msg, send); return; }
        if (config.mode === 'push') push(msg, send); else command(msg, send);
      } catch (e) {
        throw err(e instanceof Error ? e : new Error(String(e)));
      }
    },
  };
}

export = defineNode<CommandNodeConfig, InMessage>({
  type: 'fleet-command',
  version: FLEET_COMMAND_VERSION,
  migrations,
  parse: (def) => parseCommandConfig(def),
  state: { mode: 'durable' },
  credentials: { wifiPassword: { type: 'password' }, mqttPassword: { type: 'password' } },
  create,
  admin(routes) {
    // The editor's check: the runtime's parser and resolver, answering with errors only (no values).
    routes.post('/validate', (req, res) => {
      const body = isObj(req.body) ? req.body : {};
      const text = body.text;
      if (typeof text !== 'string') { res.status(400).json({ error: 'bad-request', field: 'text', reason: 'must be the fleet file as text' }); return; }
      if (Buffer.byteLength(text) > FLEET_FILE_LIMITS.maxBytes) { res.status(413).json({ error: 'too-large', reason: 'the fleet file is larger than 4 MiB' }); return; }
      const parsed = parseFleetFile(text, { file: 'fleet file' });
      if (!parsed.ok) { res.json({ ok: false, errors: parsed.errors.map((e) => e.message), warnings: parsed.warnings.map((e) => e.message) }); return; }
      // Only names whose value is not secret are looked up; secret references are checked by name.
      const env = new Map<string, string>();
      for (const n of referencedNames(text)) { const v = process.env[n]; if (v !== undefined && !SECRET_NAME.test(n)) env.set(n, v); }
      const resolved = new FleetResolver(parsed.fleet).resolveAll(env);
      res.json({
        ok: resolved.every((r) => r.errors.length === 0),
        devices: parsed.fleet.devices.length,
        errors: resolved.flatMap((r) => r.errors.map((e) => e.message)).slice(0, 50),
        warnings: [...parsed.warnings.map((e) => e.message), ...resolved.flatMap((r) => r.warnings.map((e) => e.message))].slice(0, 50),
      });
    });
  },
});
