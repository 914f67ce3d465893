/**
 * Safety rules for commands, pure and clocked from outside: emergency and fleet-wide commands
 * need a confirmation phrase that restates what they do (a copied `confirm: true` cannot fire
 * a different command), every class of command is rate-limited by a token bucket, and
 * emergencies and fleet-wide commands become alerts in the shared shape.
 */
import { makeAlert, type FleetAlert } from '../alert-shape';
import type { CommandRequest, Targets } from './commands';

/** A token bucket: `capacity` commands at once, refilled at `perMinute`. */
export class TokenBucket {
  private tokens: number;
  private last: number | null = null;

  constructor(readonly capacity: number, readonly perMinute: number) {
    this.tokens = capacity;
  }

  private refill(now: number): void {
    if (this.last !== null && now > this.last) this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 60_000) * this.perMinute);
    // A clock that steps back refills nothing and does not move `last` back.
    if (this.last === null || now > this.last) this.last = now;
  }

  /** Takes one token; when none is left, says how long until one is. */
  take(now: number): { ok: true } | { ok: false; retryAfterMs: number } {
    this.refill(now);
    if (this.tokens >= 1) { this.tokens -= 1; return { ok: true }; }
    return { ok: false, retryAfterMs: this.perMinute > 0 ? Math.ceil(((1 - this.tokens) / this.perMinute) * 60_000) : Number.POSITIVE_INFINITY };
  }

  available(now: number): number {
    this.refill(now);
    return Math.floor(this.tokens);
  }
}

export type CommandClass = 'device' | 'fleet-wide' | 'emergency-stop' | 'emergency-resume';

export interface RateLimits {
  readonly device: { readonly capacity: number; readonly perMinute: number };
  readonly 'fleet-wide': { readonly capacity: number; readonly perMinute: number };
  readonly 'emergency-stop': { readonly capacity: number; readonly perMinute: number };
  readonly 'emergency-resume': { readonly capacity: number; readonly perMinute: number };
}

/** Resume has its own bucket so a burst of stops can never lock the fleet out of resuming. */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  device: { capacity: 20, perMinute: 20 },
  'fleet-wide': { capacity: 1, perMinute: 0.2 },
  'emergency-stop': { capacity: 2, perMinute: 1 },
  'emergency-resume': { capacity: 2, perMinute: 1 },
};

export function commandClass(request: CommandRequest, targets: Targets): CommandClass {
  if (request.kind === 'emergency') return request.action === 'resume' ? 'emergency-resume' : 'emergency-stop';
  return targets.fleetWide ? 'fleet-wide' : 'device';
}

/** The phrase `confirm` must equal, or null when none is needed: `shutdown fleet`, `shutdown site building-a`, `reset fleet`. */
export function confirmationPhrase(request: CommandRequest, targets: Targets): string | null {
  if (request.kind === 'emergency') return `${request.action} ${targets.scope}`;
  return targets.fleetWide ? `${request.command} fleet` : null;
}

export type SafetyVerdict =
  | { readonly ok: true; readonly class: CommandClass; readonly alert: FleetAlert | null }
  | { readonly ok: false; readonly class: CommandClass; readonly code: 'confirmation' | 'rate-limit'; readonly reason: string; readonly retryAfterMs?: number };

export const ALERT_SOURCE = 'fleet-command';

/** The alert for an emergency: a stop fires it, a resume of the same scope resolves it (same labels, same fingerprint). */
export function emergencyAlert(request: Extract<CommandRequest, { kind: 'emergency' }>, targets: Targets, now: number, firedAt?: number): FleetAlert {
  const scopeLabels = 'fleet' in request.scope ? { scope: 'fleet' } : { scope: request.scope.label, [request.scope.label]: request.scope.value };
  const resume = request.action === 'resume';
  return makeAlert({
    name: 'FleetEmergencyStop', severity: 'critical', device: null, labels: { kind: 'command', ...scopeLabels },
    summary: resume ? `emergency stop of ${targets.scope} lifted` : `emergency ${request.action} of ${targets.scope} (${targets.devices.length} devices)`,
    description: `${request.reason ?? 'no reason given'}${request.by ? ` — by ${request.by}` : ''}`,
    startsAt: resume ? firedAt ?? now : now, endsAt: resume ? now : null, source: ALERT_SOURCE,
    details: { action: request.action, devices: targets.devices.length, commanded: true, ...(request.by ? { by: request.by } : {}) },
  });
}

export function fleetCommandAlert(request: Extract<CommandRequest, { kind: 'command' }>, targets: Targets, now: number): FleetAlert {
  return makeAlert({
    name: 'FleetCommand', severity: 'warning', device: null, labels: { kind: 'command', command: request.command, scope: targets.scope },
    summary: `${request.command} sent to ${targets.scope} (${targets.devices.length} devices)`,
    description: `${request.reason ?? 'no reason given'}${request.by ? ` — by ${request.by}` : ''}`,
    startsAt: now, source: ALERT_SOURCE, details: { command: request.command, devices: targets.devices.length, commanded: true },
  });
}

export class SafetyGate {
  private readonly buckets: Map<CommandClass, TokenBucket>;
  /** When each scope's stop fired, so its resume resolves the alert with the right start. */
  private readonly stops = new Map<string, number>();

  constructor(limits: RateLimits = DEFAULT_RATE_LIMITS) {
    this.buckets = new Map((Object.keys(limits) as CommandClass[]).map((k) => [k, new TokenBucket(limits[k].capacity, limits[k].perMinute)]));
  }

  /** Confirmation first (a refused unconfirmed command spends no token), then the rate limit. */
  check(request: CommandRequest, targets: Targets, now: number): SafetyVerdict {
    const cls = commandClass(request, targets);
    const phrase = confirmationPhrase(request, targets);
    if (phrase !== null && request.confirm !== phrase) {
      return { ok: false, class: cls, code: 'confirmation', reason: `${request.kind === 'emergency' ? `emergency ${request.action}` : `${request.command} of every device`} needs msg.payload.confirm = "${phrase}"${request.confirm !== undefined ? ` (got "${request.confirm}")` : ''}` };
    }
    const taken = this.buckets.get(cls)!.take(now);
    if (!taken.ok) return { ok: false, class: cls, code: 'rate-limit', reason: `${cls} commands are rate-limited; next allowed in ${Math.ceil(taken.retryAfterMs / 1000)} s`, retryAfterMs: taken.retryAfterMs };
    let alert: FleetAlert | null = null;
    if (request.kind === 'emergency') {
      const key = targets.scope;
      if (request.action === 'resume') { alert = emergencyAlert(request, targets, now, this.stops.get(key)); this.stops.delete(key); }
      else { if (!this.stops.has(key)) this.stops.set(key, now); alert = emergencyAlert(request, targets, now); }
    } else if (targets.fleetWide) {
      alert = fleetCommandAlert(request, targets, now);
    }
    return { ok: true, class: cls, alert };
  }
}

/**
 * Which devices are offline because they were told to be: the health node asks this before
 * calling a silent device a failure. Cleared by a resume or by the device reporting again.
 */
export class CommandedOffline {
  private readonly devices = new Map<string, { action: string; since: number; by?: string }>();

  apply(request: CommandRequest, targets: Targets, now: number): void {
    if (request.kind !== 'emergency') return;
    for (const d of targets.devices) {
      if (request.action === 'resume') this.devices.delete(d);
      else this.devices.set(d, { action: request.action, since: now, ...(request.by ? { by: request.by } : {}) });
    }
  }

  get(device: string): { action: string; since: number; by?: string } | undefined {
    return this.devices.get(device);
  }

  clear(device: string): void {
    this.devices.delete(device);
  }

  get size(): number { return this.devices.size; }
}
