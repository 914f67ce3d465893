/**
 * fleet-alerts: alerts in; one output per named receiver, carrying grouped notifications.
 * Commands by message: silence, unsilence, ack.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { Request, Response } from 'express';

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { deviceAlert, type FleetAlert } from '../../lib/health/alert';
import { AlertDispatcher, type DispatcherState, type Notification } from '../../lib/alerts/dispatcher';
import { AlertStore } from '../../lib/alerts/persistence';
import { ALERT_LIMITS, checkAlertLimits, checkDeviceTimestamp } from '../../lib/alerts/limits';
import { parseAlertsConfig } from '../../lib/alerts/config';
import { readAlert } from '../../lib/alerts/input';
import { compileMatcherList, type CompiledMatcher } from '../../lib/alerts/matchers';
import { render } from '../../lib/alerts/message';
import { matchRoutes, parseDuration } from '../../lib/alerts/routes';
import { exportAlertmanagerYaml, importAlertmanagerYaml } from '../../lib/alerts/alertmanager-yaml';
import { ThrottledStatus } from '../shared/status';

interface FleetAlertsDef extends NodeDef {
  receivers: unknown;
  routing: unknown;
}

type InMessage = NodeMessageInFlow & { kind?: unknown; device?: { id?: unknown; labels?: unknown; kind?: unknown; arch?: unknown } };
type Send = (msgs: Array<NodeMessageInFlow | null>) => void;

function matchersFrom(list: unknown): CompiledMatcher[] | string {
  const m = compileMatcherList(list);
  if (!m.ok) return m.reason;
  return m.value.length ? m.value : 'matchers must be a non-empty list such as ["site=north"]';
}

/** Bodies the admin endpoints accept. */
const ENDPOINT_BODY_LIMIT = 256 * 1024;

/**
 * `$FLEET_STATE_DIR/fleet-alerts-<id>.jsonl`, else `<userDir>/fleet-state/…`; without either (the
 * test helper), a fresh temporary directory: nothing to restore, nothing shared between loads.
 */
function journalFile(RED: NodeAPI, id: string): string {
  let dir = process.env.FLEET_STATE_DIR;
  if (!dir) {
    let userDir: unknown;
    try { userDir = (RED.settings as unknown as { userDir?: unknown }).userDir; } catch { userDir = undefined; }
    if (typeof userDir === 'string' && userDir) dir = path.join(userDir, 'fleet-state');
  }
  if (!dir) dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-state-'));
  return path.join(dir, `fleet-alerts-${id.replace(/[^A-Za-z0-9_-]/g, '_')}.jsonl`);
}

export = function register(RED: NodeAPI): void {
  function FleetAlerts(this: Node, def: FleetAlertsDef): void {
    RED.nodes.createNode(this, def);
    const status = new ThrottledStatus(this);
    const parsed = parseAlertsConfig(def.receivers, def.routing);
    if (!parsed.ok) {
      const where = parsed.field ? `${parsed.path} ${parsed.field}` : parsed.path;
      this.error(RED._('fleet-alerts.errors.config', { where, reason: parsed.reason }));
      status.now({ fill: 'red', shape: 'ring', text: RED._('fleet-alerts.status.badConfig', { where }) });
      this.on('input', (_m: InMessage, _s: Send, done: (e?: Error) => void) => done(new Error(`fleet-alerts: ${where}: ${parsed.reason}`)));
      return;
    }
    const config = parsed.value;
    const dispatcher = new AlertDispatcher(config.tree, config.inhibitRules, config.timeIntervals, config.escalations);
    const outputOf = new Map(config.receivers.map((r, i) => [r, i]));
    let silenceSeq = 0;

    // State (groups and what they last sent, firing alerts, silences, acknowledgements, escalations
    // done, notifications not yet known delivered) lives in a journal synced per commit.
    let store: AlertStore;
    try {
      store = AlertStore.open(journalFile(RED, this.id));
    } catch (err) {
      this.error(RED._('fleet-alerts.errors.store', { message: (err as Error).message }));
      status.now({ fill: 'red', shape: 'ring', text: RED._('fleet-alerts.status.noStore') });
      this.on('input', (_m: InMessage, _s: Send, done: (e?: Error) => void) => done(new Error(`fleet-alerts: state store: ${(err as Error).message}`)));
      return;
    }
    let ready = false;
    let closed = false;
    const waiting: Array<() => void> = [];
    /** Inputs handled but not yet durable: their done() waits for the commit. */
    let pendingDone: Array<(err?: Error) => void> = [];
    let commitTimer: NodeJS.Timeout | null = null;
    /** Notifications whose commit failed: sent once a commit succeeds. */
    let unsent: Notification[] = [];
    /** Read back from the outbox at start: sent again at the first tick. */
    let redeliver: Notification[] = [];

    const showStatus = (): void => status.set(() => ({
      fill: dispatcher.activeCount > 0 ? 'yellow' : 'green', shape: 'dot',
      text: RED._('fleet-alerts.status.counts', { active: dispatcher.activeCount, silences: dispatcher.activeSilences(Date.now()).length }),
    }));

    const deliver = (notifications: readonly Notification[], redelivery = false): void => {
      for (const n of notifications) {
        const out: Array<NodeMessageInFlow | null> = config.receivers.map(() => null);
        const r = render(n);
        out[outputOf.get(n.receiver) ?? 0] = {
          topic: r.subject, payload: r.text, notification: n, webhook: r.webhook, headers: { ...r.headers }, idempotencyKey: n.id, receiver: n.receiver,
          ...(redelivery ? { redelivery: true } : {}),
        } as unknown as NodeMessageInFlow;
        this.send(out);
      }
    };

    /** Writes what changed (and `toSend` into the outbox); true when it is durable. */
    const commit = (now: number, toSend: readonly Notification[] = []): boolean => {
      try {
        store.commit(dispatcher, now, toSend);
        return true;
      } catch (err) {
        this.error(RED._('fleet-alerts.errors.store', { message: (err as Error).message }));
        return false;
      }
    };
    const commitInputs = (): void => {
      if (commitTimer) { clearTimeout(commitTimer); commitTimer = null; }
      const dones = pendingDone;
      pendingDone = [];
      const ok = commit(Date.now());
      for (const d of dones) d(ok ? undefined : new Error('fleet-alerts: could not save the alert state; the alert is held in memory only'));
    };

    const timer = setInterval(() => {
      if (!ready) return;
      const now = Date.now();
      const due = [...unsent, ...dispatcher.flush(now)];
      // Durable before the effect: the flush's state and its notifications are committed, then sent.
      const dones = pendingDone;
      pendingDone = [];
      if (commitTimer) { clearTimeout(commitTimer); commitTimer = null; }
      const ok = commit(now, due);
      for (const d of dones) d(ok ? undefined : new Error('fleet-alerts: could not save the alert state'));
      if (!ok) { unsent = due; return; }
      unsent = [];
      // What was committed but may not have reached its receiver goes again, with the same key (at
      // the first tick, when every node of the flows is there to take it).
      if (redeliver.length) { deliver(redeliver, true); redeliver = []; }
      if (due.length) { deliver(due); showStatus(); }
    }, 1000);

    this.on('input', (msg: InMessage, send: Send, done: (err?: Error) => void) => {
      const run = (): void => {
        let err: Error | undefined;
        try {
          err = handle(msg, send);
        } catch (e) {
          // Whatever slipped past the checks: the message is refused, the node goes on.
          err = new Error(`fleet-alerts: ${(e as Error).message}`);
        }
        if (err) { done(err); return; }
        pendingDone.push(done);
        if (!commitTimer && !closed) commitTimer = setTimeout(commitInputs, 20);
      };
      if (ready) run();
      else waiting.push(run);
    });

    /** Handles one message; returns the refusal, if any. */
    const handle = (msg: InMessage, _send: Send): Error | undefined => {
      const now = Date.now();
      const p = msg.payload as Record<string, unknown> | undefined;
      // A receiver's confirmation: one of our notification messages come back (a `complete` node on
      // the e-mail or http request node, wired back), known by its key in two places.
      const delivered = msg.notification as { id?: unknown } | undefined;
      if (delivered && typeof delivered === 'object' && typeof delivered.id === 'string' && (msg as { idempotencyKey?: unknown }).idempotencyKey === delivered.id) {
        store.delivered(delivered.id);
        return undefined;
      }
      if (msg.topic === 'silence') {
        const matchers = matchersFrom(p?.matchers);
        if (typeof matchers === 'string') return new Error(`fleet-alerts: silence: ${matchers}`);
        const forMs = typeof p?.duration === 'string' ? parseDuration(p.duration) : null;
        const endsAt = typeof p?.endsAt === 'string' ? Date.parse(p.endsAt) : forMs !== null ? now + forMs : NaN;
        if (!Number.isFinite(endsAt) || endsAt <= now) return new Error('fleet-alerts: silence: give a duration such as "2h" or a future endsAt');
        const id = typeof p?.id === 'string' && p.id.length <= 200 ? p.id : `silence-${now}-${++silenceSeq}`;
        dispatcher.addSilence({ id, matchers, endsAt, comment: typeof p?.comment === 'string' ? p.comment.slice(0, 2000) : undefined, createdBy: typeof p?.createdBy === 'string' ? p.createdBy.slice(0, 200) : undefined });
        showStatus();
        return undefined;
      }
      if (msg.topic === 'unsilence') {
        if (typeof p?.id !== 'string' || !dispatcher.expireSilence(p.id)) return new Error(`fleet-alerts: unsilence: no silence ${JSON.stringify(p?.id)}`);
        showStatus();
        return undefined;
      }
      if (msg.topic === 'ack') {
        if (typeof p?.fingerprint === 'string') { dispatcher.acknowledge(p.fingerprint); return undefined; }
        const by = matchersFrom(p?.matchers);
        if (typeof by === 'string') return new Error(`fleet-alerts: ack: give a fingerprint or matchers (${by})`);
        dispatcher.acknowledge(by);
        return undefined;
      }
      let alert: FleetAlert;
      // A device's own alert as fleet-decode delivers it.
      if (msg.kind === 'alert' && msg.device && typeof msg.device.id === 'string' && p && typeof p === 'object') {
        const bad = checkDeviceTimestamp(p);
        if (bad) return new Error(`fleet-alerts: ${bad.field}: ${bad.reason}`);
        const labels: Record<string, string> = {};
        for (const k of ['kind', 'arch'] as const) if (typeof msg.device[k] === 'string') labels[k] = msg.device[k] as string;
        const own = msg.device.labels;
        if (own && typeof own === 'object') {
          const entries = Object.entries(own);
          if (entries.length > ALERT_LIMITS.labels) return new Error(`fleet-alerts: device.labels: ${entries.length} labels; at most ${ALERT_LIMITS.labels}`);
          for (const [k, v] of entries) if (typeof v === 'string') labels[k] = v;
        }
        alert = deviceAlert(msg.device.id, p, labels, now);
      } else {
        const r = readAlert(p, now);
        if (!r.ok) return new Error(`fleet-alerts: ${r.field}: ${r.reason}`);
        alert = r.value;
      }
      const over = checkAlertLimits(alert);
      if (over) return new Error(`fleet-alerts: ${over.field}: ${over.reason}`);
      dispatcher.receive(alert, now);
      showStatus();
      return undefined;
    };

    // Restore: the journal; else, once, the snapshot earlier versions kept in the node's context.
    type Cb = (err: Error | null, v?: unknown) => void;
    const ctx = this.context() as unknown as { get(k: string, cb: Cb): void; set(k: string, v: unknown, cb: (e: Error | null) => void): void };
    try {
      const opened = store.load(dispatcher, Date.now());
      redeliver = opened.redeliver;
      if (opened.damaged > 0) this.warn(RED._('fleet-alerts.errors.damaged', { count: opened.damaged, file: store.file }));
    } catch (err) {
      this.error(RED._('fleet-alerts.errors.store', { message: (err as Error).message }));
    }
    // Last, so the store's callback (which may come at once) finds everything defined.
    ctx.get('state', (err, state) => {
      if (closed) return;
      const s = state as DispatcherState | undefined;
      if (!err && s && typeof s === 'object' && s.v === 1 && Array.isArray(s.groups)) {
        if (store.isEmpty) {
          try {
            dispatcher.restore(s, Date.now());
            store.writeAll(dispatcher);
          } catch (e) {
            this.error(RED._('fleet-alerts.errors.store', { message: (e as Error).message }));
          }
        }
        ctx.set('state', undefined, () => undefined);
      }
      ready = true;
      for (const f of waiting.splice(0)) f();
      showStatus();
    });

    this.on('close', (removed: boolean, done: () => void) => {
      closed = true;
      clearInterval(timer);
      status.close();
      if (commitTimer) { clearTimeout(commitTimer); commitTimer = null; }
      const dones = pendingDone;
      pendingDone = [];
      let failed: Error | undefined;
      try { store.stop(dispatcher, Date.now()); } catch (err) { failed = err as Error; this.error(RED._('fleet-alerts.errors.store', { message: failed.message })); }
      for (const d of dones) d(failed);
      if (removed) fs.rm(store.file, { force: true }, () => done());
      else done();
    });
  }

  RED.nodes.registerType('fleet-alerts', FleetAlerts as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);

  if (RED.httpAdmin) {
    // These endpoints parse what the user sends (routing documents, YAML): writers only, and bounded.
    const perm = RED.auth.needsPermission('fleet-alerts.write');
    const refuse = (res: Response, status: number, field: string, reason: string): void => { res.status(status).json({ ok: false, path: 'request', field, reason }); };
    const guarded = (handler: (body: Record<string, unknown>, res: Response) => void) => (req: Request, res: Response): void => {
      const declared = Number(req.headers['content-length']);
      let size = Number.isFinite(declared) ? declared : 0;
      try { if (!Number.isFinite(declared)) size = Buffer.byteLength(JSON.stringify(req.body ?? null)); } catch { size = Infinity; }
      if (size > ENDPOINT_BODY_LIMIT) { refuse(res, 413, 'body', `is ${size} bytes; at most ${ENDPOINT_BODY_LIMIT} (256 KiB)`); return; }
      const body = req.body as unknown;
      if (body === null || typeof body !== 'object' || Array.isArray(body)) { refuse(res, 400, 'body', 'must be a JSON object'); return; }
      try {
        handler(body as Record<string, unknown>, res);
      } catch (err) {
        // A parser that throws is a bug to fix, but the editor gets a field error, not a stack.
        if (!res.headersSent) refuse(res, 400, 'body', `could not be read: ${(err as Error).message}`);
      }
    };
    // The dialog checks with the runtime's own parser and shows which receivers a sample alert reaches.
    // A refused document is an answer (200, ok false, where and why); a malformed request is a 400.
    RED.httpAdmin.post('/fleet-alerts/check', perm, guarded((body, res) => {
      const r = parseAlertsConfig(body.receivers, body.routing);
      if (!r.ok) { res.json({ ok: false, path: r.path, field: r.field, reason: r.reason }); return; }
      let labels: Record<string, string> | null = null;
      if (body.labels !== undefined && body.labels !== null) {
        if (typeof body.labels !== 'object' || Array.isArray(body.labels)) { refuse(res, 400, 'labels', 'must map label names to text'); return; }
        labels = Object.fromEntries(Object.entries(body.labels).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
      }
      res.json({ ok: true, receivers: labels ? matchRoutes(r.value.tree, labels).map((x) => ({ receiver: x.receiver, route: x.path })) : [] });
    }));
    RED.httpAdmin.post('/fleet-alerts/import', perm, guarded((body, res) => {
      if (typeof body.yaml !== 'string') { refuse(res, 400, 'yaml', 'must be the Alertmanager YAML as text'); return; }
      res.json(importAlertmanagerYaml(body.yaml));
    }));
    RED.httpAdmin.post('/fleet-alerts/export', perm, guarded((body, res) => {
      const receivers = body.receivers ?? [];
      if (!Array.isArray(receivers) || receivers.some((r) => typeof r !== 'string')) { refuse(res, 400, 'receivers', 'must be a list of receiver names'); return; }
      let doc: unknown = body.routing ?? '{}';
      if (typeof doc === 'string') {
        try { doc = JSON.parse(doc || '{}'); } catch (err) { refuse(res, 400, 'routing', `not valid JSON: ${(err as Error).message}`); return; }
      }
      if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) { refuse(res, 400, 'routing', 'must be an object with a route'); return; }
      const d = doc as { route?: unknown; inhibit_rules?: unknown; time_intervals?: unknown };
      if (d.route === null || typeof d.route !== 'object' || Array.isArray(d.route)) { refuse(res, 400, 'routing.route', 'must be an object'); return; }
      for (const k of ['inhibit_rules', 'time_intervals'] as const) if (d[k] !== undefined && !Array.isArray(d[k])) { refuse(res, 400, `routing.${k}`, 'must be a list'); return; }
      const yaml = exportAlertmanagerYaml({ route: d.route, receivers: receivers as string[], inhibit_rules: (d.inhibit_rules ?? []) as [], time_intervals: (d.time_intervals ?? []) as [] });
      res.type('text/yaml').send(yaml);
    }));
  }
};
