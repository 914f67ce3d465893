/**
 * fleet-ota without Node-RED: one node's controller, image repository and outputs. It reads a message
 * (inbound.ts), feeds the controller, and shapes what a step caused into the node's four outputs;
 * it answers the editor's admin requests and builds the status badge. The adapter only translates
 * Node-RED's objects to these calls and sends what comes back.
 */
import { alertTopic, type FleetAlert } from '../alert-shape';
import { OtaController, type DurableStore, type Outbound } from './controller';
import { readInbound, type InboundMessage } from './inbound';
import { parseStartRequest, type CandidateDevice } from './node-config';
import type { RolloutPlan } from './plan';
import type { ImageRepository } from './repository';
import { acceptUpload, type UploadAnswer } from './upload';

export interface OutMessage {
  readonly topic: string;
  readonly payload: unknown;
  readonly [field: string]: unknown;
}

/** One entry per output: commands, per-device progress, summaries, alerts. */
export type OtaOutputs = readonly [OutMessage[] | null, OutMessage[] | null, OutMessage | null, OutMessage[] | null];

export interface RecentAlert { readonly name: string; readonly severity: string; readonly device: string | null; readonly summary: string; readonly startsAt: string }

export interface Badge {
  readonly fill: 'grey' | 'blue' | 'green' | 'yellow' | 'red';
  readonly shape: 'dot' | 'ring';
  /** A key of the node's status catalog and its variables. */
  readonly key: 'idle' | 'rollout' | 'held';
  readonly vars: Readonly<Record<string, string | number>>;
}

export interface AdminAnswer { readonly status: number; readonly body: Readonly<Record<string, unknown>>; readonly outputs?: OtaOutputs | null }

export interface ServiceOptions {
  readonly store: DurableStore;
  readonly repository: ImageRepository;
  readonly secret: string;
  readonly downloadUrl: string;
  readonly tokenTtlSeconds: number;
  /** The node's plan: a start request overrides it field by field. */
  readonly plan: RolloutPlan;
  /** The registry's devices, for target selectors. */
  readonly known: () => CandidateDevice[];
}

const ALERTS_KEPT = 20;
/** Device events bring a summary at most this often; wave and rollout events always do. */
const SUMMARY_EVERY_MS = 1000;
const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);

export class OtaService {
  readonly controller: OtaController;
  /** The last alerts sent, newest last, for the dialog. */
  readonly alerts: RecentAlert[] = [];
  private lastSummaryAt = 0;

  constructor(private readonly opts: ServiceOptions) {
    this.controller = new OtaController(opts);
  }

  get repository(): ImageRepository { return this.opts.repository; }

  /** Rebuilds the rollouts from the store; the problems name those that could not be read. */
  restore(): string[] { return this.controller.restore(); }

  tick(now: number): OtaOutputs | null { return this.outputs(this.controller.tick(now), now); }

  /** One message into the node. Throws an Error naming what is wrong, for done(err). */
  input(msg: InboundMessage, now: number): OtaOutputs | null {
    const c = this.controller;
    const m = readInbound(msg);
    switch (m.type) {
      case 'progress':
        if (!m.progress.ok) throw new Error(`fleet-ota: progress of ${m.device}: ${m.progress.field} ${m.progress.reason}`);
        return this.outputs(c.progress(m.device, m.progress.value, now), now);
      case 'health': return this.outputs(c.noteHealth(m.device, m.state, m.score, now), now);
      case 'version': return c.active?.has(m.device) ? this.outputs(c.handle({ type: 'version', device: m.device, version: m.version, at: now }), now) : null;
      case 'other': return null;
      case 'action': break;
    }
    const p = isObj(m.payload) ? m.payload : {};
    switch (m.action) {
      case 'start': {
        const req = parseStartRequest(m.payload, this.opts.plan);
        if (!req.ok) throw new Error(`fleet-ota: start: ${req.field} ${req.reason}`);
        return this.outputs(c.start(req.value, this.opts.known(), now), now);
      }
      case 'pause': case 'resume': case 'abort':
        if (!c.active) throw new Error(`fleet-ota: ${m.action}: no rollout is running or paused`);
        return this.outputs(c.handle({ type: m.action, at: now, reason: typeof p.reason === 'string' ? p.reason.slice(0, 200) : undefined }), now);
      case 'image': {
        const name = p.name;
        const data = Buffer.isBuffer(p.image) ? p.image : typeof p.image === 'string' ? Buffer.from(p.image, 'base64') : null;
        if (typeof name !== 'string' || !data) throw new Error('fleet-ota: image: payload must be {name, image (Buffer or base64), manifest}');
        const r = this.opts.repository.add(name, data, p.manifest);
        if (!r.ok) throw new Error(`fleet-ota: image ${name} refused (${r.code}): ${r.reason}`);
        return [null, null, { topic: `fleet-ota/image/${name}`, payload: { added: name, manifest: r.manifest } }, null];
      }
      case 'status': {
        const r = c.latest;
        return [null, null, { topic: 'fleet-ota/status', payload: r ? r.summary() : null, refusals: { ...c.refusals } }, null];
      }
    }
  }

  /** The node's outputs for what a step caused; null when it caused nothing. */
  outputs(out: Outbound, now: number): OtaOutputs | null {
    if (out.commands.length === 0 && out.events.length === 0 && out.alerts.length === 0) return null;
    const r = this.controller.latest;
    const rollout = r?.id ?? null;
    const devices: OutMessage[] = [];
    let milestone = false;
    for (const e of out.events) {
      if (e.type === 'device') devices.push({ topic: `fleet-ota/device/${e.device}`, payload: { rollout, ...e, percent: r?.percentOf(e.device) ?? null } });
      else milestone = true;
    }
    let summary: OutMessage | null = null;
    if (out.summary && (milestone || now - this.lastSummaryAt >= SUMMARY_EVERY_MS)) {
      summary = { topic: `fleet-ota/rollout/${out.summary.id}`, payload: out.summary, events: out.events.filter((e) => e.type !== 'device') };
      this.lastSummaryAt = now;
    }
    for (const a of out.alerts) this.alerts.push({ name: a.name, severity: a.severity, device: a.device, summary: a.summary, startsAt: a.startsAt });
    if (this.alerts.length > ALERTS_KEPT) this.alerts.splice(0, this.alerts.length - ALERTS_KEPT);
    return [
      out.commands.length ? out.commands.map((c) => ({ topic: c.topic, payload: c.payload, qos: 1, retain: false })) : null,
      devices.length ? devices : null,
      summary,
      out.alerts.length ? out.alerts.map((a: FleetAlert) => ({ topic: alertTopic(a), payload: a })) : null,
    ];
  }

  /** Blue while running, yellow when paused, held or something failed, green when completed, red when aborted. */
  badge(): Badge {
    const r = this.controller.latest;
    if (!r) return { fill: 'grey', shape: 'ring', key: 'idle', vars: {} };
    const s = r.summary();
    const c = s.totals;
    const bad = c.failed + c.rolledBack + c.rejected + c.timedOut + c.canceled;
    const held = s.status === 'running' && s.waveState === 'held';
    const fill = s.status === 'aborted' ? 'red' : s.status === 'paused' || held || bad > 0 ? 'yellow' : s.status === 'completed' ? 'green' : 'blue';
    return { fill, shape: s.status === 'running' ? 'dot' : 'ring', key: held ? 'held' : 'rollout', vars: { id: s.id, status: s.status, wave: s.wave + 1, waves: s.waves.length, done: c.succeeded, flight: c.inFlight + c.gating, bad } };
  }

  /** GET …/state: the rollout, the ids kept, refused downloads, known devices and recent alerts. */
  state(): Readonly<Record<string, unknown>> {
    const l = this.controller.latest;
    return { rollout: l ? l.summary() : null, rollouts: this.controller.ids(), refusals: this.controller.refusals, known: this.opts.known().length, alerts: this.alerts };
  }

  /** POST …/start|pause|resume|abort from the dialog. */
  command(action: string, body: unknown, now: number): AdminAnswer {
    const c = this.controller;
    if (!['start', 'pause', 'resume', 'abort'].includes(action)) return { status: 404, body: { error: 'no such action' } };
    try {
      let out: Outbound;
      if (action === 'start') {
        const q = parseStartRequest(body, this.opts.plan);
        if (!q.ok) return { status: 400, body: { field: q.field, reason: q.reason } };
        out = c.start(q.value, this.opts.known(), now);
      } else {
        if (!c.active) return { status: 409, body: { reason: 'no rollout is running or paused' } };
        out = c.handle({ type: action as 'pause' | 'resume' | 'abort', at: now, reason: `${action} from the editor` });
      }
      return { status: 200, body: { ok: true, rollout: c.latest?.summary() ?? null }, outputs: this.outputs(out, now) };
    } catch (err) {
      return { status: 409, body: { reason: (err as Error).message } };
    }
  }

  /** POST …/images: an upload, verified like a rollout's image and stored under a derived name. */
  upload(contentType: unknown, body: Buffer): UploadAnswer {
    return acceptUpload(this.opts.repository, contentType, body);
  }
}
