/**
 * What fleet-ota runs, without Node-RED: the rollouts restored from and committed to a durable store,
 * the image repository, and the device-facing HTTP answers (version check, download with Range and a
 * token, status report). Every step's journal changes are committed BEFORE its messages are returned,
 * so a caller that sends what it gets back never sends an effect whose transition could be lost.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { otaCancelTopic } from '../../firmware/contract/ota-cancel';
import type { FleetAlert } from '../alert-shape';
import type { HealthState } from '../health/tracker';
import { updateCommand } from './command';
import type { Manifest } from './manifest';
import { selectTargets, type CandidateDevice, type StartRequest } from './node-config';
import { parseProgress, type OtaProgress } from './progress';
import { parseRange } from './range';
import { imageNameProblem, ImageRepository } from './repository';
import { Rollout, type HealthLookup, type RolloutEvent, type RolloutInput, type RolloutSummary, type StepOutput } from './rollout';
import { verifyToken } from './token';

export interface DurableStore {
  keys(): string[];
  get(key: string): unknown;
  /** On disk when it returns (one fdatasync). */
  commit(changes: Iterable<readonly [string, unknown]>): void;
}

export interface OutMessage {
  readonly topic: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

export interface Outbound {
  /** ota/update/{device} and ota/cancel/{device}, for a core mqtt out. */
  readonly commands: OutMessage[];
  readonly events: RolloutEvent[];
  readonly alerts: FleetAlert[];
  /** The rollout's summary when anything happened, else null. */
  readonly summary: RolloutSummary | null;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer | Readonly<Record<string, unknown>>;
}

export interface ControllerOptions {
  readonly store: DurableStore;
  readonly repository: ImageRepository;
  readonly secret: string;
  /** Where devices reach the download endpoint, e.g. http://10.0.0.2:1880/fleet/ota/firmware. */
  readonly downloadUrl: string;
  readonly tokenTtlSeconds: number;
}

export interface RefusalCounts { unauthorized: number; forbidden: number; notFound: number; badRange: number; served: number }

const NOTHING: Outbound = { commands: [], events: [], alerts: [], summary: null };
const META = /^ota:([A-Za-z0-9][A-Za-z0-9_.-]{0,47}):meta$/;
const json = (status: number, body: Record<string, unknown>): HttpAnswer => ({ status, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }, body });

export class OtaController {
  private readonly rollouts = new Map<string, Rollout>();
  private current: Rollout | null = null;
  readonly refusals: RefusalCounts = { unauthorized: 0, forbidden: 0, notFound: 0, badRange: 0, served: 0 };
  readonly health = new Map<string, { state: HealthState; score: number }>();
  /** Verified images by name, checked again when the file changes (verifying 1.3 MB per Range request would be the bottleneck). */
  private readonly images = new Map<string, { stamp: string; image: Buffer; manifest: Manifest }>();

  constructor(private readonly opts: ControllerOptions) {}

  /** Rebuilds every rollout from the store; the problems name rollouts that could not be read. */
  restore(): string[] {
    const problems: string[] = [];
    const ids = this.opts.store.keys().map((k) => META.exec(k)?.[1]).filter((x): x is string => x !== undefined);
    const entries = this.opts.store.keys().map((k) => [k, this.opts.store.get(k)] as const);
    for (const id of ids) {
      const r = Rollout.restore(entries, id);
      if (!r.ok) { problems.push(r.reason); continue; }
      this.rollouts.set(id, r.rollout);
      // A finished rollout is kept to answer for its id; it never runs again.
      if (!r.rollout.finished) this.current = r.rollout;
    }
    return problems;
  }

  get active(): Rollout | null { return this.current && !this.current.finished ? this.current : null; }
  /** The active rollout, else the last one restored or started. */
  get latest(): Rollout | null { return this.current; }
  rollout(id: string): Rollout | undefined { return this.rollouts.get(id); }
  ids(): string[] { return [...this.rollouts.keys()]; }

  /** Starts a rollout; throws (with the reason) when one is running, the id is taken or the image is missing. */
  start(req: StartRequest, known: Iterable<CandidateDevice>, at: number): Outbound {
    if (this.active) throw new Error(`rollout ${this.active.id} is ${this.active.status}: abort it or let it finish before starting another`);
    const id = req.id ?? `r${at.toString(36)}`;
    if (this.rollouts.has(id)) throw new Error(`a rollout named ${id} already ran; a finished or aborted rollout never starts again, so choose another id`);
    const stored = this.repoImage(req.image);
    if (!stored) throw new Error(`image ${req.image} is not in the repository, or does not verify with the trusted keys`);
    const targets = selectTargets(req.targets, stored.manifest.kind, known);
    if (targets.length === 0) throw new Error('the target selector matches no device');
    const { rollout, output } = Rollout.create({ id, manifest: stored.manifest, imageName: req.image, plan: req.plan, targets, at });
    this.rollouts.set(id, rollout);
    this.current = rollout;
    return this.apply(rollout, output, at);
  }

  /** Feeds one input to the active rollout. */
  handle(input: RolloutInput): Outbound {
    const r = this.active;
    if (!r) return NOTHING;
    if (input.type === 'health') this.health.set(input.device, { state: input.state, score: this.health.get(input.device)?.score ?? NaN });
    return this.apply(r, r.handle(input), input.at);
  }

  tick(at: number): Outbound {
    const lookup: HealthLookup = (d) => this.health.get(d);
    return this.handle({ type: 'tick', at, health: lookup });
  }

  /** fleet-health's state change: its state and score feed the gate and the margin. */
  noteHealth(device: string, state: HealthState, score: number, at: number): Outbound {
    this.health.set(device, { state, score });
    const r = this.active;
    if (!r || !r.has(device)) return NOTHING;
    return this.apply(r, r.handle({ type: 'health', device, state, at }), at);
  }

  private apply(r: Rollout, out: StepOutput, at: number): Outbound {
    // Durable before the effect is sent: the one rule this class exists for.
    if (out.changes.length) this.opts.store.commit(out.changes);
    if (out.effects.length === 0 && out.events.length === 0) return NOTHING;
    const commands: OutMessage[] = [];
    const alerts: FleetAlert[] = [];
    const expires = at + this.opts.tokenTtlSeconds * 1000;
    for (const e of out.effects) {
      if (e.type === 'command') commands.push(updateCommand(e, this.opts.downloadUrl, this.opts.secret, expires));
      else if (e.type === 'cancel') commands.push({ topic: otaCancelTopic(e.device), payload: { job_id: e.jobId, v: 1 } });
      else alerts.push(e.alert);
    }
    return { commands, events: out.events, alerts, summary: r.summary() };
  }

  // --- HTTP -----------------------------------------------------------------------------------

  private repoImage(name: string): { image: Buffer; manifest: Manifest } | null {
    if (imageNameProblem(name) !== null) return null;
    let stamp: string;
    try {
      const a = fs.statSync(path.join(this.opts.repository.dir, `${name}.bin`));
      const b = fs.statSync(path.join(this.opts.repository.dir, `${name}.manifest.json`));
      stamp = `${a.size}:${a.mtimeMs}:${b.size}:${b.mtimeMs}`;
    } catch { return null; }
    const cached = this.images.get(name);
    if (cached && cached.stamp === stamp) return cached;
    const got = this.opts.repository.get(name);
    if (!got) { this.images.delete(name); return null; }
    this.images.set(name, { stamp, ...got });
    return got;
  }

  /** GET download: the token must be this device's for this image and unexpired; one Range at most. */
  download(req: { image: string; device: unknown; token: unknown; range: string | string[] | undefined; now: number }): HttpAnswer {
    if (imageNameProblem(req.image) !== null) { this.refusals.notFound++; return json(404, { error: 'no such image' }); }
    if (typeof req.device !== 'string' || req.device === '') { this.refusals.unauthorized++; return json(401, { error: 'device is missing' }); }
    const v = verifyToken(req.token, { device: req.device, image: req.image, now: req.now }, this.opts.secret);
    if (!v.ok) {
      if (v.status === 401) this.refusals.unauthorized++; else this.refusals.forbidden++;
      return json(v.status, { error: v.refusal, reason: v.reason });
    }
    const stored = this.repoImage(req.image);
    if (!stored) { this.refusals.notFound++; return json(404, { error: 'no such image' }); }
    const size = stored.image.length;
    const range = parseRange(req.range, size);
    const common = { 'Content-Type': 'application/octet-stream', 'Accept-Ranges': 'bytes', 'Cache-Control': 'no-store', ETag: `"${stored.manifest.sha256}"`, 'X-Firmware-Version': stored.manifest.version };
    if (range.kind === 'unsatisfiable') { this.refusals.badRange++; return { status: 416, headers: { ...common, 'Content-Range': range.contentRange }, body: Buffer.alloc(0) }; }
    this.refusals.served++;
    if (range.kind === 'full') return { status: 200, headers: { ...common, 'Content-Length': String(size) }, body: stored.image };
    return { status: 206, headers: { ...common, 'Content-Range': range.contentRange, 'Content-Length': String(range.end - range.start + 1) }, body: stored.image.subarray(range.start, range.end + 1) };
  }

  /** GET version check: the version this device should run (the active rollout's image when it is a target). */
  versionCheck(device: unknown): HttpAnswer {
    if (typeof device !== 'string' || device === '') return json(400, { error: 'device is missing' });
    const r = this.active;
    const rec = r?.device(device);
    if (!r || !rec || rec.wave < 0) return json(200, { device, update: false });
    const img = r.snapshot().meta.image;
    return json(200, { device, update: rec.attempt > 0, rollout: r.id, version: img.version, size: img.size, sha256: img.sha256, phase: rec.phase });
  }

  /** POST status report: the same progress shape as ota/progress/{device}. */
  statusReport(body: unknown, now: number): { answer: HttpAnswer; out: Outbound } {
    const b = body !== null && typeof body === 'object' && !Array.isArray(body) ? body as Record<string, unknown> : null;
    const device = b?.device ?? b?.device_id;
    if (typeof device !== 'string' || device === '') return { answer: json(400, { error: 'device is missing' }), out: NOTHING };
    const rest = Object.fromEntries(Object.entries(b as Record<string, unknown>).filter(([k]) => k !== 'device' && k !== 'device_id'));
    const p = parseProgress(rest);
    if (!p.ok) return { answer: json(400, { error: `${p.field} ${p.reason}` }), out: NOTHING };
    const out = this.progress(device, p.value, now);
    return { answer: json(202, { accepted: true }), out };
  }

  progress(device: string, progress: OtaProgress, at: number): Outbound {
    return this.handle({ type: 'progress', device, progress, at });
  }
}
