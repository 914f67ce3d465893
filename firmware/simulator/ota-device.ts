/**
 * The device side of OTA for the virtual fleet: takes ota/update/{device}, downloads the image over
 * HTTP with the token in its URL (in Range pieces, resuming after a dropped connection), checks
 * size, SHA-256 and signature, reports progress on ota/progress/{device}, "reboots" into the new
 * version and confirms it, or rolls back as ESP-IDF does: the new image boots as PENDING_VERIFY and
 * becomes VALID (esp_ota_mark_app_valid_cancel_rollback) or ABORTED, the bootloader then starting the
 * previous one. Works on the fleet's VirtualDevice objects (firmware version, reboot, faults), so the
 * fleet's own traffic shows the new version.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';

import mqtt, { type MqttClient } from 'mqtt';

import { otaCancelTopic, SIM_OTA_FAULT_TOPIC } from '../contract/ota-cancel';
import { topicFor } from '../contract/topics';
import type { VirtualDevice } from './device';

export type OtaFault =
  | 'download-failure'      // every download breaks off: FAILED
  | 'download-interrupted'  // the first connection drops mid-image; the device resumes with Range
  | 'bad-checksum'          // the stored image is corrupted: SHA-256 mismatch, FAILED
  | 'boot-failure'          // the new image does not boot: ABORTED, the old one runs, ROLLED_BACK
  | 'silent-rollback'       // reports UPDATED, then comes back on the old version without a word
  | 'never-answer'          // takes the command and says nothing
  | 'health-worsening';     // updates fine, then its heap falls (health gets worse)

export const OTA_FAULTS: readonly OtaFault[] = ['download-failure', 'download-interrupted', 'bad-checksum', 'boot-failure', 'silent-rollback', 'never-answer', 'health-worsening'];

/** ESP-IDF's esp_ota_img_states_t, the part a rollback goes through. */
export type OtaImageState = 'NEW' | 'PENDING_VERIFY' | 'VALID' | 'ABORTED';

export interface OtaAgentOptions {
  readonly brokerUrl: string;
  readonly devices: Iterable<VirtualDevice>;
  /** PEM public keys the "bootloader" trusts. */
  readonly trustedKeys: readonly string[];
  /** Time between reported stages (compressed in tests and the demo). */
  readonly stepMs?: number;
  readonly chunkBytes?: number;
}

interface Command { job_id: string; firmware_version: string; url: string; size: number; sha256: string; signature: string }

interface DeviceOta {
  /** Jobs taken, by job id: a repeated command of the same job is answered with its outcome, not run again. */
  readonly jobs: Map<string, { outcome: Record<string, unknown> | null; canceled: boolean }>;
  image: OtaImageState | null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function readCommand(payload: Buffer): Command | null {
  let x: unknown;
  try { x = JSON.parse(payload.toString('utf8')); } catch { return null; }
  if (x === null || typeof x !== 'object') return null;
  const c = x as Record<string, unknown>;
  if (typeof c.job_id !== 'string' || typeof c.firmware_version !== 'string' || typeof c.url !== 'string' || typeof c.size !== 'number' || typeof c.sha256 !== 'string' || typeof c.signature !== 'string') return null;
  return { job_id: c.job_id, firmware_version: c.firmware_version, url: c.url, size: c.size, sha256: c.sha256, signature: c.signature };
}

export class OtaDeviceAgent {
  readonly stats = { commands: 0, repeats: 0, downloads: 0, rangeRequests: 0, resumed: 0, bytes: 0, updated: 0, rolledBack: 0, failed: 0, refusedHttp: 0 };
  private readonly devices = new Map<string, VirtualDevice>();
  private readonly ota = new Map<string, DeviceOta>();
  private readonly faults = new Map<string, Set<OtaFault>>();
  private readonly keys: KeyObject[];
  private client: MqttClient | null = null;
  private readonly stepMs: number;
  private readonly chunk: number;
  private stopped = false;

  constructor(private readonly opts: OtaAgentOptions) {
    for (const d of opts.devices) this.devices.set(d.id, d);
    this.keys = opts.trustedKeys.map((pem) => createPublicKey(pem));
    this.stepMs = opts.stepMs ?? 100;
    this.chunk = opts.chunkBytes ?? 256 * 1024;
  }

  inject(id: string | 'all', fault: OtaFault): void {
    for (const d of id === 'all' ? this.devices.keys() : [id]) {
      let s = this.faults.get(d);
      if (!s) this.faults.set(d, s = new Set());
      s.add(fault);
    }
  }

  clear(id?: string): void {
    if (id === undefined || id === 'all') this.faults.clear(); else this.faults.delete(id);
  }

  has(id: string, fault: OtaFault): boolean { return this.faults.get(id)?.has(fault) ?? false; }

  /** The device's ESP-IDF image state after its last update (null before any). */
  imageState(id: string): OtaImageState | null { return this.ota.get(id)?.image ?? null; }

  async start(): Promise<void> {
    const client = mqtt.connect(this.opts.brokerUrl, { clientId: `sim-ota-${process.pid}-${Math.random().toString(36).slice(2, 8)}`, reconnectPeriod: 500 });
    client.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => { client.once('connect', () => resolve()); client.once('error', reject); });
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    await client.subscribeAsync([topicFor('ota.update', { device: '+' }), otaCancelTopic('+'), SIM_OTA_FAULT_TOPIC.replace('{device}', '+')], { qos: 1 });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const c = this.client;
    this.client = null;
    await c?.endAsync().catch(() => undefined);
  }

  private onMessage(topic: string, payload: Buffer): void {
    const parts = topic.split('/');
    if (parts[0] === 'sim') {
      let cmd: { fault?: unknown; action?: unknown };
      try { cmd = JSON.parse(payload.toString('utf8')) as typeof cmd; } catch { return; }
      if (cmd.action === 'clear') this.clear(parts[2]);
      else if (typeof cmd.fault === 'string' && (OTA_FAULTS as readonly string[]).includes(cmd.fault)) this.inject(parts[2], cmd.fault as OtaFault);
      return;
    }
    const id = parts[2];
    const device = this.devices.get(id);
    if (!device) return;
    const state = this.stateOf(id);
    if (parts[1] === 'cancel') {
      let j: { job_id?: unknown };
      try { j = JSON.parse(payload.toString('utf8')) as typeof j; } catch { return; }
      const job = typeof j.job_id === 'string' ? state.jobs.get(j.job_id) : undefined;
      if (job && job.outcome === null) job.canceled = true;
      return;
    }
    const cmd = readCommand(payload);
    if (!cmd) return;
    const known = state.jobs.get(cmd.job_id);
    if (known) {
      // MQTT QoS 1 may deliver twice: a job is run once, and its outcome repeated.
      this.stats.repeats++;
      if (known.outcome) this.progress(id, known.outcome);
      return;
    }
    this.stats.commands++;
    state.jobs.set(cmd.job_id, { outcome: null, canceled: false });
    if (this.has(id, 'never-answer')) return;
    void this.run(device, cmd).catch(() => { this.stats.failed++; });
  }

  private stateOf(id: string): DeviceOta {
    let s = this.ota.get(id);
    if (!s) this.ota.set(id, s = { jobs: new Map(), image: null });
    return s;
  }

  private progress(id: string, body: Record<string, unknown>): void {
    this.client?.publish(topicFor('ota.progress', { device: id }), JSON.stringify({ ...body, timestamp: Date.now(), v: 1 }), { qos: 1 });
  }

  private birth(d: VirtualDevice): void {
    const b = d.birth(Date.now());
    this.client?.publish(b.topic, b.payload, { qos: 1, retain: b.retain });
  }

  private finish(id: string, jobId: string, body: Record<string, unknown>): void {
    const job = this.stateOf(id).jobs.get(jobId);
    if (job) job.outcome = body;
    this.progress(id, body);
  }

  private async run(d: VirtualDevice, cmd: Command): Promise<void> {
    const id = d.id;
    const job = this.stateOf(id).jobs.get(cmd.job_id) as { canceled: boolean };
    const base = { job_id: cmd.job_id };
    const gone = (): boolean => this.stopped || job.canceled;
    this.progress(id, { ...base, state: 'QUEUED' });
    await sleep(this.stepMs);
    if (gone()) return;
    const image = await this.download(id, cmd, base, gone);
    if (gone()) return;
    if (typeof image === 'string') { this.stats.failed++; this.finish(id, cmd.job_id, { ...base, state: 'FAILED', reason: image }); return; }
    this.progress(id, { ...base, state: 'DOWNLOADED', progress: 100 });
    if (this.has(id, 'bad-checksum')) image[image.length >> 1] ^= 0xff;
    const problem = this.check(image, cmd);
    if (problem) { this.stats.failed++; this.finish(id, cmd.job_id, { ...base, state: 'FAILED', reason: problem }); return; }
    this.progress(id, { ...base, state: 'VERIFIED' });
    await sleep(this.stepMs);
    if (gone()) return;
    this.progress(id, { ...base, state: 'UPDATING' });
    await sleep(this.stepMs);
    if (gone()) return;
    // esp_ota_set_boot_partition + esp_restart: the new image boots as PENDING_VERIFY.
    const previous = d.firmware;
    const ota = this.stateOf(id);
    ota.image = 'PENDING_VERIFY';
    d.restarts++;
    d.firmware = cmd.firmware_version;
    d.boot(Date.now());
    if (this.has(id, 'boot-failure')) {
      // The self-test fails before esp_ota_mark_app_valid_cancel_rollback: ABORTED, the bootloader starts the old image.
      ota.image = 'ABORTED';
      d.restarts++;
      d.firmware = previous;
      d.boot(Date.now());
      this.birth(d);
      this.stats.rolledBack++;
      this.finish(id, cmd.job_id, { ...base, state: 'ROLLED_BACK', firmware_version: previous, reason: `boot of ${cmd.firmware_version} failed its self-test: image ABORTED, rolled back to ${previous}` });
      return;
    }
    ota.image = 'VALID';
    this.birth(d);
    this.stats.updated++;
    this.finish(id, cmd.job_id, { ...base, state: 'UPDATED', firmware_version: cmd.firmware_version, progress: 100 });
    if (this.has(id, 'silent-rollback')) {
      await sleep(this.stepMs * 3);
      d.restarts++;
      d.firmware = previous;
      d.boot(Date.now());
      this.birth(d);
    }
    if (this.has(id, 'health-worsening')) {
      d.faults.add('low-heap');
      d.expedite(Date.now());
    }
  }

  /** The image, or why the download failed. Fetched in Range pieces; a dropped piece is resumed from where it stopped. */
  private async download(id: string, cmd: Command, base: Record<string, unknown>, gone: () => boolean): Promise<Buffer | string> {
    this.stats.downloads++;
    const parts: Buffer[] = [];
    let have = 0;
    let interrupted = false;
    let retries = 0;
    this.progress(id, { ...base, state: 'DOWNLOADING', progress: 0 });
    while (have < cmd.size) {
      if (gone()) return 'canceled';
      const end = Math.min(cmd.size, have + this.chunk) - 1;
      let res: Response;
      try {
        this.stats.rangeRequests++;
        res = await fetch(cmd.url, { headers: { Range: `bytes=${have}-${end}` } });
      } catch (err) {
        if (++retries > 3) return `download failed: ${(err as Error).message}`;
        await sleep(this.stepMs);
        continue;
      }
      if (res.status === 401 || res.status === 403) { this.stats.refusedHttp++; return `download refused: HTTP ${res.status}`; }
      if (res.status !== 206 && res.status !== 200) return `download failed: HTTP ${res.status}`;
      let body = Buffer.from(await res.arrayBuffer());
      if (res.status === 200) { parts.length = 0; have = 0; }
      if (this.has(id, 'download-failure')) return `download failed: connection closed after ${have + (body.length >> 1)} of ${cmd.size} bytes`;
      if (this.has(id, 'download-interrupted') && !interrupted && body.length > 1) {
        // The connection drops halfway through this piece: keep what came, resume with Range.
        interrupted = true;
        body = body.subarray(0, body.length >> 1);
        this.stats.resumed++;
      }
      parts.push(body);
      have += body.length;
      this.stats.bytes += body.length;
      if (have > cmd.size) return `size mismatch: received more than the ${cmd.size} bytes announced`;
      this.progress(id, { ...base, state: 'DOWNLOADING', progress: Math.floor((have * 100) / cmd.size) });
    }
    return Buffer.concat(parts);
  }

  private check(image: Buffer, cmd: Command): string | null {
    if (image.length !== cmd.size) return `size mismatch: got ${image.length} bytes, the command says ${cmd.size}`;
    const sha = createHash('sha256').update(image).digest('hex');
    if (sha !== cmd.sha256) return `checksum mismatch: SHA-256 ${sha.slice(0, 12)}…, the command says ${cmd.sha256.slice(0, 12)}…`;
    const sig = Buffer.from(cmd.signature, 'base64');
    const good = this.keys.some((k) => { try { return verify(k.asymmetricKeyType === 'ed25519' ? null : 'sha256', image, k, sig); } catch { return false; } });
    return good ? null : 'signature does not verify with any trusted key';
  }
}
