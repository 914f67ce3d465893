/**
 * fleet-health: decoded messages in; output 1 state changes, output 2 alerts, output 3 fleet summary.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { Request, Response } from 'express';

import { defaultHealthConfig, parseHealthConfig, type HealthConfig } from '../../lib/health/config';
import { HealthTracker, isHealthSnapshot, type HealthUpdate } from '../../lib/health/tracker';
import type { DeviceKind, MessageKind } from '../../firmware/contract/topics';
import { registryOf } from '../shared/registry-node';
import { ThrottledStatus } from '../shared/status';

interface FleetHealthDef extends NodeDef {
  registry: string;
  scoring: string;
  sweepS: string | number;
  summaryS: string | number;
}

interface DeviceField { id?: unknown; kind?: unknown; arch?: unknown; online?: unknown; labels?: unknown }
type InMessage = NodeMessageInFlow & {
  kind?: unknown; device?: DeviceField; error?: { device?: unknown }; thresholds?: unknown; command?: unknown; retain?: unknown;
};
type Out = NodeMessageInFlow | NodeMessageInFlow[] | null;
type Send = (msgs: Out[]) => void;

const LABEL_KEYS = ['site', 'location', 'building', 'floor', 'room'];

function labelsOf(x: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (x && typeof x === 'object') for (const k of LABEL_KEYS) { const v = (x as Record<string, unknown>)[k]; if (typeof v === 'string') out[k] = v; }
  return out;
}

export = function register(RED: NodeAPI): void {
  function FleetHealth(this: Node, def: FleetHealthDef): void {
    RED.nodes.createNode(this, def);
    const status = new ThrottledStatus(this);
    const parsed = parseHealthConfig(def.scoring || undefined);
    if (!parsed.ok) {
      this.error(RED._('fleet-health.errors.config', { field: parsed.field, reason: parsed.reason }));
      status.now({ fill: 'red', shape: 'ring', text: RED._('fleet-health.status.badConfig', { field: parsed.field }) });
      this.on('input', (_m: InMessage, _s: Send, done: (e?: Error) => void) => done(new Error(`fleet-health: ${parsed.field}: ${parsed.reason}`)));
      return;
    }
    const config = parsed.value;
    const tracker = new HealthTracker(config);
    const fleet = registryOf(RED, def.registry);
    const sweepMs = Math.max(1, Number(def.sweepS) || 5) * 1000;
    const summaryMs = Number(def.summaryS) > 0 ? Number(def.summaryS) * 1000 : 0;
    let lastThresholds: unknown = null;
    let lastThresholdConfig: HealthConfig = config;

    const showCounts = (): void => status.set(() => {
      const c = tracker.stateCounts();
      return {
        fill: c.critical > 0 || c.offline > 0 ? 'red' : c.degraded > 0 ? 'yellow' : 'green', shape: 'dot',
        text: RED._('fleet-health.status.counts', c as unknown as Record<string, number>),
      };
    });

    const toMessages = (updates: HealthUpdate[]): Out[] => {
      const changes: NodeMessageInFlow[] = [];
      const alerts: NodeMessageInFlow[] = [];
      for (const u of updates) {
        if (u.change) {
          changes.push({ topic: `health/${u.change.device}`, payload: u.change } as unknown as NodeMessageInFlow);
          fleet?.setHealth(u.change.device, tracker.snapshot(u.change.device));
        }
        for (const a of u.alerts) alerts.push({ topic: `alert/${a.labels.alertname}/${a.device ?? 'fleet'}`, payload: a } as unknown as NodeMessageInFlow);
      }
      return [changes.length ? changes : null, alerts.length ? alerts : null, null];
    };

    const summaryMsg = (): NodeMessageInFlow => ({ topic: 'health/summary', payload: tracker.summary(Date.now()) } as unknown as NodeMessageInFlow);

    // Restore what the registry kept: a device that was critical is still critical after a restart.
    let restored = fleet === null;
    const ready = fleet ? fleet.ready.then(() => {
      for (const rec of fleet.records()) {
        if (isHealthSnapshot(rec.health)) tracker.restore(rec.id, rec.health, rec.lastSeen, rec.arch, rec.labels);
      }
      restored = true;
      showCounts();
    }, () => { restored = true; }) : Promise.resolve();

    // A fleet-wide outage (the broker gone) makes every device silent at once: take it in slices so
    // messages keep flowing between them.
    const SWEEP_SLICE = 2000;
    let sweeping = false;
    const sweepSlice = (now: number): void => {
      const updates = tracker.sweep(now, SWEEP_SLICE);
      for (const u of updates) if (u.change) fleet?.markSilent(u.change.device, now);
      if (updates.length) { this.send(toMessages(updates)); showCounts(); }
      if (updates.length === SWEEP_SLICE) setImmediate(() => sweepSlice(now));
      else sweeping = false;
    };
    const sweepTimer = setInterval(() => {
      if (sweeping) return;
      sweeping = true;
      sweepSlice(Date.now());
    }, sweepMs);
    const summaryTimer = summaryMs ? setInterval(() => this.send([null, null, summaryMsg()]), summaryMs) : null;

    const handle = (msg: InMessage, send: Send, done: (err?: Error) => void): void => {
      if (msg.command === 'summary' || msg.topic === 'health/summary') {
        send([null, null, summaryMsg()]);
        done();
        return;
      }
      let scoring = config;
      if (msg.thresholds !== undefined) {
        if (msg.thresholds !== lastThresholds) {
          const t = parseHealthConfig(msg.thresholds, config);
          if (!t.ok) { done(new Error(`fleet-health: msg.thresholds ${t.field}: ${t.reason}`)); return; }
          lastThresholds = msg.thresholds;
          lastThresholdConfig = t.value;
        }
        scoring = lastThresholdConfig;
      }
      const now = Date.now();
      let update: HealthUpdate;
      let id: string;
      const rejectedDevice = msg.error && typeof msg.error.device === 'string' ? msg.error.device : null;
      if (rejectedDevice !== null && msg.kind === undefined) {
        id = rejectedDevice;
        update = tracker.observeReject(id, now, scoring);
      } else {
        const device = msg.device;
        if (typeof msg.kind !== 'string' || !device || typeof device.id !== 'string' || !msg.payload || typeof msg.payload !== 'object') {
          done(new Error('fleet-health: expected a message from fleet-decode (msg.kind, msg.device.id, msg.payload object) or a reject with msg.error.device'));
          return;
        }
        update = tracker.observe({
          id: device.id, kind: msg.kind as MessageKind, deviceKind: typeof device.kind === 'string' ? device.kind as DeviceKind : null,
          arch: typeof device.arch === 'string' ? device.arch : null, labels: labelsOf(device.labels),
          payload: msg.payload as Record<string, unknown>, at: now,
          online: typeof device.online === 'boolean' ? device.online : undefined, retained: msg.retain === true,
        }, scoring);
        id = device.id;
      }
      const snap = tracker.snapshot(id);
      if (snap) fleet?.setHealth(id, snap);
      const out = toMessages([update]);
      if (out[0] || out[1]) send(out);
      showCounts();
      done();
    };

    // Until the registry has loaded, messages wait (in order): a broker replaying retained births at
    // start must not create fresh records that hide the persisted ones.
    this.on('input', (msg: InMessage, send: Send, done: (err?: Error) => void) => {
      if (restored) handle(msg, send, done);
      else void ready.then(() => handle(msg, send, done));
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(sweepTimer);
      if (summaryTimer) clearInterval(summaryTimer);
      status.close();
      void ready.then(() => done());
    });
  }

  RED.nodes.registerType('fleet-health', FleetHealth as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);

  if (RED.httpAdmin) {
    // The dialog builds its factor table from these defaults, and checks an edited configuration with
    // the same code the runtime uses, so the editor and a deploy never disagree.
    RED.httpAdmin.get('/fleet-health/defaults', RED.auth.needsPermission('fleet-health.read'), (_req: Request, res: Response) => {
      res.json(defaultHealthConfig());
    });
    RED.httpAdmin.post('/fleet-health/validate', RED.auth.needsPermission('fleet-health.read'), (req: Request, res: Response) => {
      const r = parseHealthConfig((req.body as { scoring?: unknown }).scoring);
      res.json(r.ok ? { ok: true } : { ok: false, field: r.field, reason: r.reason });
    });
  }
};
