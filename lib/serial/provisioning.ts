/**
 * The host side of serial provisioning: write the line, wait for the device's acknowledgement with
 * the same seq, and say how it ended. Pure over a line channel and a clock, so a test steps time.
 */
import { checkProvisioningConfig, parseAckLine, provisionLine, type ProvisioningConfig, type ProvisioningSecrets } from '../../firmware/contract/provisioning';

export const DEFAULT_ACK_TIMEOUT_MS = 10_000;

/** One serial port as provisioning sees it: lines in, text out, and word when it goes away. */
export interface LineChannel {
  readonly path: string;
  write(text: string): Promise<void>;
  /** Subscribes to complete lines; returns the unsubscribe. */
  onLine(fn: (line: string) => void): () => void;
  /** Subscribes to the port closing or vanishing; returns the unsubscribe. */
  onGone(fn: (reason: string) => void): () => void;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export type FailureCode = 'timeout' | 'rejected' | 'port-gone' | 'invalid' | 'write-failed';

export type ProvisionResult =
  | { readonly ok: true; readonly port: string; readonly device_id: string; readonly seq: number; readonly ms: number }
  | { readonly ok: false; readonly port: string; readonly device_id: string | null; readonly code: FailureCode; readonly reason: string; readonly seq: number | null; readonly ms: number };

export interface ProvisionOptions {
  readonly seq: number;
  readonly timeoutMs?: number;
  readonly clock?: Clock;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export function provision(channel: LineChannel, config: ProvisioningConfig, secrets: ProvisioningSecrets, opts: ProvisionOptions): Promise<ProvisionResult> {
  const clock = opts.clock ?? systemClock;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
  const started = clock.now();
  const { seq } = opts;
  const base = { port: channel.path, device_id: config.device_id };
  const line = provisionLine(config, secrets, seq);
  if (!line.ok) return Promise.resolve({ ok: false, ...base, code: 'invalid', reason: `${line.field}: ${line.reason}`, seq, ms: 0 });

  return new Promise<ProvisionResult>((resolve) => {
    let settled = false;
    let badAck: string | null = null;
    const cleanups: Array<() => void> = [];
    const end = (r: ProvisionResult): void => {
      if (settled) return;
      settled = true;
      for (const c of cleanups) c();
      resolve(r);
    };
    const fail = (code: FailureCode, reason: string): void => end({ ok: false, ...base, code, reason, seq, ms: clock.now() - started });

    cleanups.push(channel.onLine((l) => {
      const ack = parseAckLine(l);
      if (ack === null) return;
      if (!ack.ok) { badAck = ack.reason; return; }
      // An ack for another attempt (a late answer to a timed-out one) is not this one's answer.
      if (ack.value.seq !== seq) return;
      if (ack.value.ok) end({ ok: true, port: channel.path, device_id: ack.value.device_id, seq, ms: clock.now() - started });
      else fail('rejected', ack.value.reason);
    }));
    cleanups.push(channel.onGone((reason) => fail('port-gone', reason)));
    const timer = clock.setTimeout(() => fail('timeout', `no acknowledgement within ${timeoutMs} ms${badAck ? ` (a malformed one: ${badAck})` : ''}`), timeoutMs);
    cleanups.push(() => clock.clearTimeout(timer));
    channel.write(line.value).catch((err: unknown) => fail('write-failed', message(err)));
  });
}

export interface BatchItem {
  /** The device's configuration as a flow gives it (checked here). */
  readonly config: unknown;
  readonly port: string;
}

export interface ChannelLease {
  readonly channel: LineChannel;
  release(): void;
}

/**
 * The guide's provisioning loop as one call: every device on its own port, all at once, one result
 * per device in the list's order. A bad entry or a port that will not open fails that device only.
 */
export async function provisionBatch(items: readonly BatchItem[], open: (port: string) => Promise<ChannelLease>, secrets: ProvisioningSecrets, opts: { readonly firstSeq: number; readonly timeoutMs?: number; readonly clock?: Clock }): Promise<ProvisionResult[]> {
  const seen = new Map<string, number>();
  for (const it of items) seen.set(it.port, (seen.get(it.port) ?? 0) + 1);
  return Promise.all(items.map(async (it, i): Promise<ProvisionResult> => {
    const seq = opts.firstSeq + i;
    const rawId = typeof it.config === 'object' && it.config !== null && Object.prototype.hasOwnProperty.call(it.config, 'device_id') ? (it.config as Record<string, unknown>).device_id : null;
    const device_id = typeof rawId === 'string' ? rawId : null;
    const invalid = (reason: string): ProvisionResult => ({ ok: false, port: it.port, device_id, code: 'invalid', reason, seq, ms: 0 });
    if ((seen.get(it.port) ?? 0) > 1) return invalid(`port ${it.port} is listed for more than one device`);
    const config = checkProvisioningConfig(it.config);
    if (!config.ok) return invalid(`${config.field}: ${config.reason}`);
    let lease: ChannelLease;
    try {
      lease = await open(it.port);
    } catch (err) {
      return { ok: false, port: it.port, device_id, code: 'port-gone', reason: message(err), seq, ms: 0 };
    }
    try {
      return await provision(lease.channel, config.value, secrets, { seq, timeoutMs: opts.timeoutMs, clock: opts.clock });
    } finally {
      lease.release();
    }
  }));
}
