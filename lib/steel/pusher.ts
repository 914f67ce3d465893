/**
 * fleet-steel's domain: a command (program, targets, action) becomes the messages the devices
 * accept, what the devices answer becomes per-device outcomes, per-program summaries and alerts.
 * Plain TypeScript with the clock passed in; the node adapter only translates.
 */
import {
  STEEL_BROADCAST, buildRequest, steelTopic,
  type SteelOperation,
} from '../../firmware/contract/steel';
import { KIND } from '../../firmware/contract/topics';
import { makeAlert, type FleetAlert } from '../alert-shape';
import type { CheckOptions, CheckResult } from './checker';
import { prepareLoad, type SteelProgramRegistry } from './program';
import type { Targets } from './push-config';
import { selectDevices, type SelectableDevice } from './selector';
import { PushTracker, TRACKED_OPERATIONS, type Outcome, type ProgramSummary, type TrackedOperation } from './push-tracker';
import type { SteelUplink } from './uplink';

export interface Publish {
  readonly topic: string;
  /** The JSON text the device parses. */
  readonly payload: string;
  /** The device subscribes at QoS 1 (AtLeastOnce). */
  readonly qos: 1;
  readonly device: string | null;
  readonly operation: SteelOperation;
  readonly programId: string;
}

export interface Command {
  readonly action: SteelOperation;
  readonly programId: string;
  readonly programName?: string;
  readonly version: string;
  /** Required for load. */
  readonly source?: string;
  readonly autoStart: boolean;
  readonly targets: Targets;
  /** Send a load even to devices that run this version. */
  readonly force?: boolean;
  readonly parameters?: unknown;
}

export interface PushResult {
  readonly publishes: readonly Publish[];
  /** Devices a load skipped: they already run this exact version. */
  readonly skipped: readonly string[];
  readonly check: CheckResult | null;
  readonly summary: ProgramSummary;
  readonly outcomes: readonly Outcome[];
  readonly alerts: readonly FleetAlert[];
}

export interface UplinkResult {
  readonly outcomes: readonly Outcome[];
  readonly summaries: readonly ProgramSummary[];
  readonly alerts: readonly FleetAlert[];
}

export interface PusherOptions {
  readonly check: CheckOptions;
  readonly timeoutMs: number;
  readonly target: number;
  /** Name in the alerts' `source`. */
  readonly source?: string;
  /** The registry's devices, for selectors, broadcast expectations and per-device stop/remove/status. */
  readonly devices?: () => Iterable<SelectableDevice>;
}

/** A device's kind says it runs Steel; a device the registry does not know the kind of may. */
const steelCapable = (d: SelectableDevice): boolean => d.kind === KIND.steelDevice || d.kind === null;

export class SteelPusher {
  readonly tracker: PushTracker;
  /** device\0program → when its failure alert started. */
  private readonly firing = new Map<string, number>();
  /** program → when its low-success-rate alert started. */
  private readonly rateFiring = new Map<string, number>();
  private readonly source: string;

  constructor(readonly registry: SteelProgramRegistry, private readonly options: PusherOptions) {
    this.tracker = new PushTracker({ timeoutMs: options.timeoutMs, target: options.target });
    this.source = options.source ?? 'fleet-steel';
  }

  private knownSteelDevices(): string[] {
    const all = this.options.devices?.() ?? [];
    return selectDevices([], [...all].filter(steelCapable));
  }

  /** The device ids the targets name; broadcast: null (one message for all). */
  resolve(targets: Targets): string[] | null {
    if (targets.type === 'broadcast') return null;
    if (targets.type === 'devices') return [...targets.devices];
    if (!this.options.devices) throw new Error('a label selector needs a fleet-registry: choose one in the node');
    return selectDevices(targets.matchers, this.options.devices());
  }

  /**
   * Plans the messages for a command. Throws SteelProgramRejected for a program with errors (nothing
   * is registered or sent), TypeError for a target the device cannot take.
   */
  push(cmd: Command, now: number): PushResult {
    const devices = this.resolve(cmd.targets);
    if (devices !== null && devices.length === 0) throw new Error(cmd.targets.type === 'selector' ? `the selector ${cmd.targets.text.join(', ')} matches no device in the registry` : 'no target device');
    let publishes: Publish[];
    let skipped: string[] = [];
    let check: CheckResult | null = null;
    let version: string | null = cmd.version;
    if (cmd.action === 'load') {
      if (typeof cmd.source !== 'string') throw new Error('load needs the program source');
      const prepared = prepareLoad(
        this.registry,
        { programId: cmd.programId, programName: cmd.programName || undefined, version: cmd.version, source: cmd.source, autoStart: cmd.autoStart, metadata: { executionTimeout: Math.ceil(this.options.timeoutMs / 1000) } },
        devices ?? STEEL_BROADCAST,
        { check: this.options.check, force: cmd.force, now },
      );
      check = prepared.check;
      skipped = [...prepared.skipped];
      publishes = prepared.publishes.map((p) => ({ topic: p.topic, payload: JSON.stringify(p.payload), qos: 1, device: p.device, operation: 'load', programId: cmd.programId }));
    } else {
      const known = this.registry.get(cmd.programId);
      version = known?.version ?? null;
      const body = JSON.stringify(buildRequest(cmd.action, cmd.programId, { parameters: cmd.parameters }));
      // The device takes only load and execute on broadcast: the others go to each known device.
      const perDevice = devices ?? (cmd.action === 'execute' ? null : this.knownSteelDevices());
      if (perDevice === null) publishes = [{ topic: steelTopic(cmd.action, STEEL_BROADCAST), payload: body, qos: 1, device: null, operation: cmd.action, programId: cmd.programId }];
      else {
        if (perDevice.length === 0) throw new Error(`devices do not take ${cmd.action} on broadcast, and the registry knows no Steel device to send it to one by one`);
        const topics = perDevice.map((d) => steelTopic(cmd.action, d)); // every id checked before anything is planned
        publishes = perDevice.map((d, i) => ({ topic: topics[i], payload: body, qos: 1, device: d, operation: cmd.action, programId: cmd.programId }));
      }
      if (cmd.action === 'remove') for (const p of publishes) if (p.device) this.registry.noteRemoved(p.device, cmd.programId, now);
    }
    const outcomes: Outcome[] = [];
    if (TRACKED_OPERATIONS.has(cmd.action)) {
      // A broadcast is answered by whichever devices hold the program: wait for the ones we know of.
      const expected = publishes.some((p) => p.device === null) ? this.knownSteelDevices() : publishes.map((p) => p.device as string);
      outcomes.push(...this.tracker.expect(cmd.programId, version, cmd.action as TrackedOperation, expected, now));
    }
    const alerts = this.alertsFor(outcomes, now);
    return { publishes, skipped, check, summary: this.tracker.summary(cmd.programId), outcomes, alerts };
  }

  /** A device's message: status report, full report, result or shadow. */
  uplink(u: SteelUplink, now: number): UplinkResult {
    const outcomes: Outcome[] = [];
    if (u.kind === 'status') {
      this.registry.noteStatus(u.device, u.value, now);
      outcomes.push(this.tracker.noteStatus(u.device, u.value, now));
    } else if (u.kind === 'full-report') {
      for (const s of u.value.programs) this.registry.noteStatus(u.device, s, now);
      outcomes.push(...this.tracker.noteFullReport(u.device, u.value, now));
    } else if (u.kind === 'result') {
      outcomes.push(this.tracker.noteResult(u.device, u.value, now));
    }
    return this.finish(outcomes, now);
  }

  /** Time-outs due at `now`. */
  tick(now: number): UplinkResult {
    const outcomes = this.tracker.expire(now);
    // A load nobody confirmed may not have arrived: the next push sends it again.
    for (const o of outcomes) {
      if (o.operation === 'load') this.registry.noteStatus(o.device, { program_id: o.programId, status: 'Failed', message: o.message, timestamp: new Date(now).toISOString(), execution_time_ms: null }, now);
    }
    return this.finish(outcomes, now);
  }

  private finish(outcomes: Outcome[], now: number): UplinkResult {
    const programs = [...new Set(outcomes.map((o) => o.programId))];
    return { outcomes, summaries: programs.map((p) => this.tracker.summary(p)), alerts: this.alertsFor(outcomes, now) };
  }

  /**
   * A failed or unanswered execution fires an alert for that device and program; the next success
   * resolves it. A program whose round is over (nothing pending) with its success rate at or under
   * the target fires a fleet-wide alert, resolved when the rate is back over it.
   */
  private alertsFor(outcomes: readonly Outcome[], now: number): FleetAlert[] {
    const alerts: FleetAlert[] = [];
    for (const o of outcomes) {
      const k = `${o.device}\u0000${o.programId}`;
      const labels = { program: o.programId, kind: KIND.steelDevice };
      if (o.outcome === 'failure' || o.outcome === 'timeout') {
        // One alert name for a failure and a time-out, so the success that follows resolves either.
        const name = 'SteelProgramFailed';
        const startsAt = this.firing.get(k) ?? now;
        this.firing.set(k, startsAt);
        const why = o.outcome === 'timeout' ? o.message ?? 'no answer' : o.message ?? 'the program failed';
        alerts.push(makeAlert({
          name, severity: 'warning', device: o.device, labels, summary: `${o.device}: Steel program ${o.programId} ${o.outcome === 'timeout' ? 'did not answer' : 'failed'}: ${why}`.slice(0, 1024),
          startsAt, source: this.source, details: { outcome: o },
        }));
      } else if (o.outcome === 'success' && this.firing.has(k)) {
        const startsAt = this.firing.get(k) as number;
        this.firing.delete(k);
        // The same labels, so the same fingerprint, as the alert it resolves.
        alerts.push(makeAlert({ name: 'SteelProgramFailed', severity: 'warning', device: o.device, labels, summary: `${o.device}: Steel program ${o.programId} succeeds again`, startsAt, endsAt: now, source: this.source }));
      }
    }
    for (const programId of new Set(outcomes.map((o) => o.programId))) {
      const s = this.tracker.summary(programId);
      if (s.successRate === null || s.pending > 0) continue;
      const labels = { program: programId, kind: KIND.steelDevice };
      const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
      if (s.meetsTarget === false && !this.rateFiring.has(programId)) {
        this.rateFiring.set(programId, now);
        alerts.push(makeAlert({
          name: 'SteelSuccessRateLow', severity: 'major', device: null, labels,
          summary: `Steel program ${programId}: ${pct(s.successRate)} of executions succeeded, target over ${pct(s.target)}`,
          startsAt: now, source: this.source, details: { summary: s },
        }));
      } else if (s.meetsTarget === true && this.rateFiring.has(programId)) {
        const startsAt = this.rateFiring.get(programId) as number;
        this.rateFiring.delete(programId);
        alerts.push(makeAlert({ name: 'SteelSuccessRateLow', severity: 'major', device: null, labels, summary: `Steel program ${programId}: success rate ${pct(s.successRate)} is over the target again`, startsAt, endsAt: now, source: this.source, details: { summary: s } }));
      }
    }
    return alerts;
  }
}
