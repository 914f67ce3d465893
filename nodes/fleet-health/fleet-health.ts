/**
 * fleet-health: decoded messages in; output 1 state changes, output 2 alerts, output 3 fleet summary.
 */
import fs from 'node:fs';

import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { Request, Response } from 'express';

import type { FleetAlert } from '../../lib/health/alert';
import { defaultHealthConfig, parseHealthConfig, type HealthConfig } from '../../lib/health/config';
import { DurableHealth } from '../../lib/health/durable';
import { HealthTracker, isHealthSnapshot, type HealthUpdate } from '../../lib/health/tracker';
import { maxDevicesFromEnv } from '../../lib/registry/registry';
import type { DeviceKind, MessageKind } from '../../firmware/contract/topics';
import { registryOf } from '../shared/registry-node';
import { stateFile } from '../shared/state-dir';
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
/** Group commit of last-seen and counters: after a SIGKILL, last-seen is at most this much older. */
const COMMIT_MS = 1000;
const LAST_SEEN_SLACK_MS = 100;
/** The validate endpoint reads a scoring configuration, not a document: 64 KiB is far above any real one. */
const MAX_SCORING_BYTES = 64 * 1024;

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
    // Without a registry the tracker itself is the table a publisher could grow: the same cap applies.
    const maxDevices = maxDevicesFromEnv();
    let lastThresholds: unknown = null;
    let lastThresholdConfig: HealthConfig = config;
    let refused = 0;

    // What decides what is sent (states, counters, firing alerts) comes from the journal.
    const where = stateFile(RED, 'fleet-health', this.id);
    let durable: DurableHealth | null = null;
    try {
      durable = DurableHealth.open(where.file, tracker, config);
      const r = durable.restore();
      if (r.restored > 0) this.log(RED._('fleet-health.log.restored', { count: r.restored, file: where.file }));
    } catch (err) {
      this.error(RED._('fleet-health.errors.journal', { file: where.file, message: (err as Error).message }));
    }
    let journalFailing = false;
    /** Commits before a send; a refusing disk is reported once, and the send goes ahead (at least once). */
    const commit = (ids: Iterable<string>): void => {
      if (!durable) return;
      if (durable.commit(ids)) {
        if (journalFailing) { journalFailing = false; this.log(RED._('fleet-health.log.journalBack')); }
        return;
      }
      if (!journalFailing) {
        journalFailing = true;
        this.error(RED._('fleet-health.errors.journal', { file: where.file, message: durable.stats.lastError ?? '' }));
      }
    };
    const commitTimer = setInterval(() => { if (durable && durable.waiting > 0) commit([]); }, COMMIT_MS);
    commitTimer.unref?.();

    const showCounts = (): void => status.set(() => {
      const c = tracker.stateCounts();
      const over = refused + (fleet?.refused ?? 0);
      const text = RED._('fleet-health.status.counts', c as unknown as Record<string, number>);
      return {
        fill: c.critical > 0 || c.offline > 0 || over > 0 ? 'red' : c.degraded > 0 ? 'yellow' : 'green', shape: over > 0 ? 'ring' : 'dot',
        text: over > 0 ? `${text} · ${RED._('fleet-health.status.refused', { count: over })}` : text,
      };
    });

    const alertMsg = (a: FleetAlert): NodeMessageInFlow => ({ topic: `alert/${a.labels.alertname}/${a.device ?? 'fleet'}`, payload: a } as unknown as NodeMessageInFlow);

    const toMessages = (updates: HealthUpdate[]): Out[] => {
      const changes: NodeMessageInFlow[] = [];
      const alerts: NodeMessageInFlow[] = [];
      for (const u of updates) {
        if (u.change) {
          changes.push({ topic: `health/${u.change.device}`, payload: u.change } as unknown as NodeMessageInFlow);
          fleet?.setHealth(u.change.device, tracker.snapshot(u.change.device));
        }
        for (const a of u.alerts) alerts.push(alertMsg(a));
      }
      return [changes.length ? changes : null, alerts.length ? alerts : null, null];
    };

    const summaryMsg = (): NodeMessageInFlow => ({ topic: 'health/summary', payload: tracker.summary(Date.now()) } as unknown as NodeMessageInFlow);

    // The registry's own alert (RegistryFull) goes out with the health alerts.
    const onRegistryAlert = (a: FleetAlert): void => { this.send([null, alertMsg(a), null]); showCounts(); };
    fleet?.on('alert', onRegistryAlert);

    // Restore what the registry kept for devices the journal does not know (state saved by an older
    // version), and bring the registry's last-seen up to the journal's, which is at most a second old.
    let restored = fleet === null;
    const ready = fleet ? fleet.ready.then(() => {
      for (const rec of fleet.records()) {
        const known = tracker.get(rec.id);
        if (known) {
          // The two nodes read the clock for the same message a few ms apart: only a real gap (the
          // registry's store lost writes in a crash) is worth repairing.
          if (known.obs.lastSeen - rec.lastSeen > LAST_SEEN_SLACK_MS) fleet.noteLastSeen(rec.id, known.obs.lastSeen);
          fleet.setHealth(rec.id, known);
        } else if (isHealthSnapshot(rec.health)) {
          tracker.restore(rec.id, rec.health, rec.lastSeen, rec.arch, rec.labels);
          durable?.touch(rec.id);
        }
      }
    }).catch(() => undefined).then(() => { restored = true; showCounts(); }).catch(() => undefined) : Promise.resolve();

    // A fleet-wide outage (the broker gone) makes every device silent at once: take it in slices so
    // messages keep flowing between them. Each slice is committed in one journal commit before it is sent.
    const SWEEP_SLICE = 2000;
    let sweeping = false;
    const sweepSlice = (now: number): void => {
      const updates = tracker.sweep(now, SWEEP_SLICE);
      const ids: string[] = [];
      for (const u of updates) if (u.change) { ids.push(u.change.device); fleet?.markSilent(u.change.device, now); }
      if (updates.length) { commit(ids); this.send(toMessages(updates)); showCounts(); }
      if (updates.length === SWEEP_SLICE) setImmediate(() => { try { sweepSlice(now); } catch (err) { sweeping = false; this.error(err); } });
      else sweeping = false;
    };
    const sweepTimer = setInterval(() => {
      if (sweeping || !restored) return;
      sweeping = true;
      try { sweepSlice(Date.now()); } catch (err) { sweeping = false; this.error(err); }
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
      const device = msg.device;
      const wanted = rejectedDevice !== null && msg.kind === undefined ? rejectedDevice : device && typeof device.id === 'string' ? device.id : null;
      // A device the registry refused (full) is not scored either: the cap bounds every table.
      if (wanted !== null && !tracker.get(wanted) && ((fleet && fleet.full && !fleet.get(wanted)) || (!fleet && tracker.size >= maxDevices))) {
        if (!fleet) refused++;
        showCounts();
        done();
        return;
      }
      if (rejectedDevice !== null && msg.kind === undefined) {
        id = rejectedDevice;
        update = tracker.observeReject(id, now, scoring);
      } else {
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
      if (update.change || update.alerts.length) commit([id]);
      else if (snap) durable?.touch(id);
      const out = toMessages([update]);
      if (out[0] || out[1]) send(out);
      showCounts();
      done();
    };

    const guarded = (msg: InMessage, send: Send, done: (err?: Error) => void): void => {
      try { handle(msg, send, done); } catch (err) { done(err as Error); }
    };

    // Until the registry has loaded, messages wait (in order): a broker replaying retained births at
    // start must not create fresh records that hide the persisted ones.
    this.on('input', (msg: InMessage, send: Send, done: (err?: Error) => void) => {
      if (restored) guarded(msg, send, done);
      else ready.then(() => guarded(msg, send, done), (err: unknown) => done(err as Error));
    });

    this.on('close', (removed: boolean, done: () => void) => {
      clearInterval(sweepTimer);
      clearInterval(commitTimer);
      if (summaryTimer) clearInterval(summaryTimer);
      fleet?.off('alert', onRegistryAlert);
      status.close();
      const finish = (): void => {
        try {
          durable?.close();
          // A node deleted from the flow takes its state with it; a restart or redeploy keeps it.
          if (removed && durable) fs.rmSync(durable.file, { force: true });
        } catch (err) {
          this.error(err);
        }
        where.cleanup();
        done();
      };
      ready.then(finish, finish);
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
      try {
        const length = Number(req.headers['content-length'] ?? 0);
        if (length > MAX_SCORING_BYTES) {
          res.status(413).json({ ok: false, field: 'scoring', reason: `request body over ${MAX_SCORING_BYTES} bytes` });
          return;
        }
        const body: unknown = req.body;
        if (body === null || typeof body !== 'object' || Array.isArray(body) || !Object.prototype.hasOwnProperty.call(body, 'scoring')) {
          res.status(400).json({ ok: false, field: 'scoring', reason: 'send a JSON object {"scoring": <configuration>}' });
          return;
        }
        const scoring = (body as { scoring: unknown }).scoring;
        if (typeof scoring === 'string' && scoring.length > MAX_SCORING_BYTES) {
          res.status(413).json({ ok: false, field: 'scoring', reason: `over ${MAX_SCORING_BYTES} characters` });
          return;
        }
        // A configuration that fails the check is an answer (200), as the dialog expects; a request that is not one is a 400.
        const r = parseHealthConfig(scoring);
        res.json(r.ok ? { ok: true } : { ok: false, field: r.field, reason: r.reason });
      } catch (err) {
        res.status(400).json({ ok: false, field: 'scoring', reason: (err as Error).message });
      }
    });
    // A body the admin API's JSON parser refuses (not JSON, too large) fails before the route; answer
    // it here in the endpoint's own shape rather than with Express's stack-trace page.
    RED.httpAdmin.use('/fleet-health/validate', (err: unknown, _req: Request, res: Response, next: (e?: unknown) => void) => {
      if (res.headersSent) { next(err); return; }
      const e = err as { status?: unknown; type?: unknown; message?: unknown };
      const status = e.type === 'entity.too.large' ? 413 : 400;
      res.status(status).json({ ok: false, field: 'scoring', reason: status === 413 ? 'request body too large' : `request body is not JSON: ${String(e.message ?? err).slice(0, 200)}` });
    });
  }
};
