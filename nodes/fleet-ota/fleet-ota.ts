/**
 * fleet-ota: staged, health-gated firmware rollouts. Input: start/pause/resume/abort/image messages,
 * device progress from fleet-decode, fleet-health's state changes (output 1). Outputs: 1 commands for
 * a core mqtt out, 2 per-device progress, 3 wave and rollout summaries, 4 alerts. The rollout lives
 * in the kit's durable store (a journal synced per commit); the controller commits each step before
 * this adapter sends what the step caused.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';

import { OTA_HTTP, STEEL_OTA_TOPICS } from '../../firmware/contract/ota';
import { HEALTH_STATES, type HealthState } from '../../lib/health/tracker';
import { OtaController, type Outbound } from '../../lib/ota/controller';
import { trustedKeys } from '../../lib/ota/keys';
import { parseOtaConfig, parseStartRequest, splitPem, type CandidateDevice, type OtaConfig } from '../../lib/ota/node-config';
import { parseProgress, type OtaProgress } from '../../lib/ota/progress';
import { ImageRepository } from '../../lib/ota/repository';
import { parseSteelFirmwareRequest, parseSteelStatus } from '../../lib/ota/steel';
import type { FieldResult } from '../../lib/ota/manifest';
import { defineNode, type NodeKit } from '../shared/kit';
import { registryOf } from '../shared/registry-node';
import { serve } from './http';
import { FLEET_OTA_VERSION, migrations } from './migrations';

type InMessage = NodeMessageInFlow & { action?: unknown; device?: unknown; kind?: unknown; contract?: unknown };

interface Running {
  readonly controller: OtaController;
  readonly repository: ImageRepository;
  readonly config: OtaConfig;
  readonly kit: NodeKit<OtaConfig>;
  readonly known: () => CandidateDevice[];
  readonly deliver: (out: Outbound) => void;
  /** The last alerts sent, newest last, for the dialog. */
  readonly alerts: Array<{ name: string; severity: string; device: string | null; summary: string; startsAt: string }>;
}

/** Deployed nodes by id, for the admin endpoints the editor calls. */
const deployed = new Map<string, Running>();
const SECRET_KEY = 'token-secret';
const ACTIONS = new Set(['start', 'pause', 'resume', 'abort', 'image', 'status']);

const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
const topicDevice = (topic: string, pattern: string): string | null => {
  const [pre, post] = pattern.split('{device}');
  return topic.startsWith(pre) && topic.endsWith(post) && topic.length > pre.length + post.length ? topic.slice(pre.length, topic.length - post.length) : null;
};

function userDirOf(RED: NodeAPI): string {
  const u = (RED.settings as unknown as { userDir?: unknown }).userDir;
  return typeof u === 'string' && u ? u : process.cwd();
}

/** Node-RED's own address from its settings, for devices on the same host (the simulator); real devices need the Device URL. */
function ownUrl(RED: NodeAPI): string {
  const s = RED.settings as unknown as { uiHost?: unknown; uiPort?: unknown; httpNodeRoot?: unknown; https?: unknown };
  const host = typeof s.uiHost === 'string' && s.uiHost !== '' && s.uiHost !== '0.0.0.0' && s.uiHost !== '::' ? s.uiHost : '127.0.0.1';
  const port = typeof s.uiPort === 'number' ? s.uiPort : 1880;
  const root = typeof s.httpNodeRoot === 'string' ? s.httpNodeRoot.replace(/\/+$/, '') : '';
  return `${s.https ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}${root}`;
}

/** Progress from our firmware (ota/progress/{device}) or the Steel firmware's topics; null when the message is not OTA progress. */
function readProgress(msg: InMessage): { device: string; result: FieldResult<OtaProgress> } | null {
  const topic = typeof msg.topic === 'string' ? msg.topic : '';
  const dev = isObj(msg.device) && typeof msg.device.id === 'string' ? msg.device.id : null;
  const steelStatus = topicDevice(topic, STEEL_OTA_TOPICS.status);
  if (steelStatus) return { device: steelStatus, result: parseSteelStatus(msg.payload) };
  const steelReq = topicDevice(topic, STEEL_OTA_TOPICS.firmwareRequest);
  if (steelReq) return { device: steelReq, result: parseSteelFirmwareRequest(msg.payload) };
  const ours = topicDevice(topic, 'ota/progress/{device}');
  if (msg.kind === 'ota-progress' || ours) {
    const device = dev ?? ours;
    if (!device) return null;
    return { device, result: parseProgress(msg.payload) };
  }
  return null;
}

export = defineNode<OtaConfig, InMessage>({
  type: 'fleet-ota',
  version: FLEET_OTA_VERSION,
  migrations,
  state: { mode: 'durable' },
  credentials: { secret: { type: 'password' } },
  parse: (def, RED) => {
    const r = parseOtaConfig(def);
    if (!r.ok || r.value.keysFile === null) return r;
    const file = path.resolve(userDirOf(RED), r.value.keysFile);
    let text: string;
    try { text = fs.readFileSync(file, 'utf8'); } catch (err) { return { ok: false, field: 'keysFile', reason: `cannot read ${file}: ${(err as Error).message}` }; }
    const pems = splitPem(text);
    if (pems.length === 0) return { ok: false, field: 'keysFile', reason: `${file} holds no PEM public key` };
    const bad = trustedKeys(pems).problems[0];
    if (bad) return { ok: false, field: 'keysFile', reason: bad };
    return { ok: true, value: { ...r.value, publicKeys: [...r.value.publicKeys, ...pems] } };
  },
  create(kit) {
    const { RED, node, config, def, status, t } = kit;
    const repository = new ImageRepository(path.resolve(userDirOf(RED), config.folder), trustedKeys(config.publicKeys).keys);
    const fleet = registryOf(RED, typeof def.registry === 'string' ? def.registry : undefined);
    const creds = (node as unknown as { credentials?: { secret?: unknown } }).credentials;
    let controller: OtaController | null = null;
    let lastSummaryAt = 0;
    let stopServing: (() => void) | null = null;
    const recentAlerts: Running['alerts'] = [];

    const known = (): CandidateDevice[] => (fleet ? [...fleet.records()].map((d) => ({ id: d.id, kind: d.kind, arch: d.arch, version: d.firmware, labels: d.labels })) : []);

    const badge = (): void => status.set(() => {
      const r = controller?.latest;
      if (!r) return { fill: 'grey', shape: 'ring', text: t('status.idle') };
      const s = r.summary();
      const c = s.totals;
      const done = c.succeeded;
      const bad = c.failed + c.rolledBack + c.rejected + c.timedOut + c.canceled;
      const fill = s.status === 'aborted' ? 'red' : s.status === 'paused' || bad > 0 ? 'yellow' : s.status === 'completed' ? 'green' : 'blue';
      return { fill, shape: s.status === 'running' ? 'dot' : 'ring', text: t('status.rollout', { id: s.id, status: s.status, wave: s.wave + 1, waves: s.waves.length, done, flight: c.inFlight + c.gating, bad }) };
    });

    const deliverWith = (send: (m: Array<NodeMessage | NodeMessage[] | null>) => void) => (out: Outbound): void => {
      if (out.commands.length === 0 && out.events.length === 0 && out.alerts.length === 0) return;
      const r = controller?.latest;
      const rollout = r?.id ?? null;
      const devices: NodeMessage[] = [];
      let milestone = false;
      for (const e of out.events) {
        if (e.type === 'device') devices.push({ topic: `fleet-ota/device/${e.device}`, payload: { rollout, ...e, percent: r?.percentOf(e.device) ?? null } } as NodeMessage);
        else milestone = true;
      }
      const now = Date.now();
      // A summary on every wave or rollout event, and at most once a second for device events.
      const summary = out.summary && (milestone || now - lastSummaryAt >= 1000) ? { topic: `fleet-ota/rollout/${out.summary.id}`, payload: out.summary, events: out.events.filter((e) => e.type !== 'device') } as NodeMessage : null;
      if (summary) lastSummaryAt = now;
      for (const a of out.alerts) recentAlerts.push({ name: a.name, severity: a.severity, device: a.device, summary: a.summary, startsAt: a.startsAt });
      if (recentAlerts.length > 20) recentAlerts.splice(0, recentAlerts.length - 20);
      send([
        out.commands.length ? out.commands.map((c) => ({ topic: c.topic, payload: c.payload, qos: 1, retain: false }) as NodeMessage) : null,
        devices.length ? devices : null,
        summary,
        out.alerts.length ? out.alerts.map((a) => ({ topic: `alert/${a.labels.alertname}/${a.device ?? 'fleet'}`, payload: a }) as NodeMessage) : null,
      ]);
      badge();
    };
    const deliver = deliverWith((m) => kit.send(m));

    status.now({ fill: 'grey', shape: 'ring', text: t('status.restoring') });

    return {
      ready() {
        let secret = typeof creds?.secret === 'string' && Buffer.byteLength(creds.secret) >= 16 ? creds.secret : null;
        if (!secret) {
          // No secret in the credentials: one is made and kept in the node's journal, so tokens survive a restart.
          const kept = kit.state.get(SECRET_KEY);
          secret = typeof kept === 'string' && kept.length >= 32 ? kept : randomBytes(32).toString('base64url');
          if (kept !== secret) kit.state.set(SECRET_KEY, secret);
        }
        const downloadUrl = `${config.baseUrl ?? ownUrl(RED)}${OTA_HTTP.download.replace('/:image', '')}`;
        controller = new OtaController({ store: kit.state, repository, secret, downloadUrl, tokenTtlSeconds: config.tokenTtlSeconds });
        for (const p of controller.restore()) node.warn(t('errors.restore', { message: p }));
        const running: Running = { controller, repository, config, kit, known, deliver, alerts: recentAlerts };
        deployed.set(node.id, running);
        stopServing = serve(RED, { controller, deliver });
        badge();
        // The first tick after a restart re-sends nothing: the journal says what was sent.
        kit.every(config.tickMs, () => { if (controller) deliver(controller.tick(Date.now())); });
      },
      input(msg, send) {
        const c = controller;
        if (!c) throw new Error('fleet-ota: not ready');
        const out = deliverWith(send);
        const action = typeof msg.action === 'string' ? msg.action : typeof msg.topic === 'string' && ACTIONS.has(msg.topic) ? msg.topic : null;
        const now = Date.now();
        if (action !== null) {
          const p = isObj(msg.payload) ? msg.payload : {};
          const reason = typeof p.reason === 'string' ? p.reason.slice(0, 200) : undefined;
          switch (action) {
            case 'start': {
              const req = parseStartRequest(msg.payload, config.plan);
              if (!req.ok) throw new Error(`fleet-ota: start: ${req.field} ${req.reason}`);
              out(c.start(req.value, known(), now));
              return;
            }
            case 'pause': case 'resume': case 'abort':
              if (!c.active) throw new Error(`fleet-ota: ${action}: no rollout is running or paused`);
              out(c.handle({ type: action, at: now, reason }));
              return;
            case 'image': {
              const name = p.name;
              const data = Buffer.isBuffer(p.image) ? p.image : typeof p.image === 'string' ? Buffer.from(p.image, 'base64') : null;
              if (typeof name !== 'string' || !data) throw new Error('fleet-ota: image: payload must be {name, image (Buffer or base64), manifest}');
              const r = repository.add(name, data, p.manifest);
              if (!r.ok) throw new Error(`fleet-ota: image ${name} refused (${r.code}): ${r.reason}`);
              send([null, null, { topic: `fleet-ota/image/${name}`, payload: { added: name, manifest: r.manifest } } as NodeMessage, null]);
              return;
            }
            case 'status': {
              const r = c.latest;
              send([null, null, { topic: 'fleet-ota/status', payload: r ? r.summary() : null, refusals: { ...c.refusals } } as NodeMessage, null]);
              return;
            }
          }
        }
        const pr = readProgress(msg);
        if (pr) {
          if (!pr.result.ok) throw new Error(`fleet-ota: progress of ${pr.device}: ${pr.result.field} ${pr.result.reason}`);
          out(c.progress(pr.device, pr.result.value, now));
          return;
        }
        // fleet-health output 1: {topic: health/<device>, payload: StateChange}
        if (typeof msg.topic === 'string' && msg.topic.startsWith('health/') && isObj(msg.payload) && typeof msg.payload.device === 'string') {
          const s = msg.payload.state;
          if (typeof s !== 'string' || !(HEALTH_STATES as readonly string[]).includes(s)) throw new Error(`fleet-ota: health change of ${msg.payload.device}: state ${String(s)} is not a health state`);
          const score = typeof msg.payload.score === 'number' ? msg.payload.score : NaN;
          out(c.noteHealth(msg.payload.device, s as HealthState, score, now));
          return;
        }
        // Any other decoded message: the version a device reports running (for silent rollbacks).
        if (isObj(msg.device) && typeof msg.device.id === 'string' && typeof msg.device.firmware === 'string' && c.active?.has(msg.device.id)) {
          out(c.handle({ type: 'version', device: msg.device.id, version: msg.device.firmware, at: now }));
        }
      },
      close() {
        stopServing?.();
        deployed.delete(node.id);
      },
    };
  },
  admin(routes) {
    const of = (id: unknown): Running | null => (typeof id === 'string' ? deployed.get(id) ?? null : null);
    routes.get('/:id/images', (req, res) => {
      const r = of(req.params.id);
      if (!r) { res.status(404).json({ error: 'deploy the node first' }); return; }
      res.json(r.repository.list());
    });
    routes.get('/:id/state', (req, res) => {
      const r = of(req.params.id);
      if (!r) { res.status(404).json({ error: 'deploy the node first' }); return; }
      const l = r.controller.latest;
      res.json({ rollout: l ? l.summary() : null, rollouts: r.controller.ids(), refusals: r.controller.refusals, known: r.known().length, alerts: r.alerts });
    });
    routes.post('/:id/:action', (req, res) => {
      const r = of(req.params.id);
      const action = String(req.params.action);
      if (!r) { res.status(404).json({ error: 'deploy the node first' }); return; }
      if (!['start', 'pause', 'resume', 'abort'].includes(action)) { res.status(404).json({ error: 'no such action' }); return; }
      try {
        const now = Date.now();
        if (action === 'start') {
          const q = parseStartRequest((req as unknown as { body?: unknown }).body, r.config.plan);
          if (!q.ok) { res.status(400).json({ field: q.field, reason: q.reason }); return; }
          r.deliver(r.controller.start(q.value, r.known(), now));
        } else {
          if (!r.controller.active) { res.status(409).json({ reason: 'no rollout is running or paused' }); return; }
          r.deliver(r.controller.handle({ type: action as 'pause' | 'resume' | 'abort', at: now, reason: `${action} from the editor` }));
        }
        res.json({ ok: true, rollout: r.controller.latest?.summary() ?? null });
      } catch (err) {
        res.status(409).json({ reason: (err as Error).message });
      }
    }, 'write');
  },
});
