/**
 * fleet-alerts: alerts in; one output per named receiver, carrying grouped notifications.
 * Commands by message: silence, unsilence, ack.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { Request, Response } from 'express';

import { deviceAlert } from '../../lib/health/alert';
import { AlertDispatcher, type DispatcherState, type Notification } from '../../lib/alerts/dispatcher';
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

    // State (groups and what they last sent, silences, acknowledgements) lives in the node's context,
    // so a restart neither re-sends every notification nor loses a pending one.
    type Cb = (err: Error | null, v?: unknown) => void;
    const ctx = this.context() as unknown as { get(k: string, cb: Cb): void; set(k: string, v: unknown, cb: (e: Error | null) => void): void };
    let saveTimer: NodeJS.Timeout | null = null;
    const saveNow = (cb: () => void = () => undefined): void => {
      if (saveTimer) { clearTimeout(saveTimer); saveTimer = null; }
      ctx.set('state', dispatcher.snapshot(), (err) => { if (err) this.warn(RED._('fleet-alerts.errors.store', { message: err.message })); cb(); });
    };
    const save = (): void => { if (!saveTimer) saveTimer = setTimeout(() => saveNow(), 1000); };
    let ready = false;
    const waiting: Array<() => void> = [];

    const showStatus = (): void => status.set(() => ({
      fill: dispatcher.activeCount > 0 ? 'yellow' : 'green', shape: 'dot',
      text: RED._('fleet-alerts.status.counts', { active: dispatcher.activeCount, silences: dispatcher.activeSilences(Date.now()).length }),
    }));

    const deliver = (notifications: Notification[]): void => {
      for (const n of notifications) {
        const out: Array<NodeMessageInFlow | null> = config.receivers.map(() => null);
        const r = render(n);
        out[outputOf.get(n.receiver) ?? 0] = { topic: r.subject, payload: r.text, notification: n, webhook: r.webhook, receiver: n.receiver } as unknown as NodeMessageInFlow;
        this.send(out);
      }
    };
    const timer = setInterval(() => {
      if (!ready) return;
      const due = dispatcher.flush(Date.now());
      if (due.length) { deliver(due); save(); }
    }, 1000);

    this.on('input', (msg: InMessage, send: Send, done: (err?: Error) => void) => {
      if (ready) handle(msg, send, (err) => { save(); done(err); });
      else waiting.push(() => handle(msg, send, (err) => { save(); done(err); }));
    });

    const handle = (msg: InMessage, _send: Send, done: (err?: Error) => void): void => {
      const now = Date.now();
      const p = msg.payload as Record<string, unknown> | undefined;
      if (msg.topic === 'silence') {
        const matchers = matchersFrom(p?.matchers);
        if (typeof matchers === 'string') { done(new Error(`fleet-alerts: silence: ${matchers}`)); return; }
        const forMs = typeof p?.duration === 'string' ? parseDuration(p.duration) : null;
        const endsAt = typeof p?.endsAt === 'string' ? Date.parse(p.endsAt) : forMs !== null ? now + forMs : NaN;
        if (!Number.isFinite(endsAt) || endsAt <= now) { done(new Error('fleet-alerts: silence: give a duration such as "2h" or a future endsAt')); return; }
        const id = typeof p?.id === 'string' ? p.id : `silence-${now}-${++silenceSeq}`;
        dispatcher.addSilence({ id, matchers, endsAt, comment: typeof p?.comment === 'string' ? p.comment : undefined, createdBy: typeof p?.createdBy === 'string' ? p.createdBy : undefined });
        showStatus();
        done();
        return;
      }
      if (msg.topic === 'unsilence') {
        if (typeof p?.id !== 'string' || !dispatcher.expireSilence(p.id)) { done(new Error(`fleet-alerts: unsilence: no silence ${JSON.stringify(p?.id)}`)); return; }
        showStatus();
        done();
        return;
      }
      if (msg.topic === 'ack') {
        const by = typeof p?.fingerprint === 'string' ? p.fingerprint : matchersFrom(p?.matchers);
        if (Array.isArray(by) || typeof p?.fingerprint === 'string') { dispatcher.acknowledge(by as string | CompiledMatcher[]); done(); return; }
        done(new Error(`fleet-alerts: ack: give a fingerprint or matchers (${by})`));
        return;
      }
      // A device's own alert as fleet-decode delivers it.
      if (msg.kind === 'alert' && msg.device && typeof msg.device.id === 'string' && p) {
        const labels: Record<string, string> = {};
        for (const k of ['kind', 'arch'] as const) if (typeof msg.device[k] === 'string') labels[k] = msg.device[k] as string;
        if (msg.device.labels && typeof msg.device.labels === 'object') for (const [k, v] of Object.entries(msg.device.labels)) if (typeof v === 'string') labels[k] = v;
        dispatcher.receive(deviceAlert(msg.device.id, p, labels, now), now);
        showStatus();
        done();
        return;
      }
      const alert = readAlert(p, now);
      if (!alert.ok) { done(new Error(`fleet-alerts: ${alert.field}: ${alert.reason}`)); return; }
      dispatcher.receive(alert.value, now);
      showStatus();
      done();
    };

    // Last, so the store's callback (which may come at once) finds everything defined.
    ctx.get('state', (err, state) => {
      const s = state as DispatcherState | undefined;
      if (!err && s && s.v === 1 && Array.isArray(s.groups)) dispatcher.restore(s, Date.now());
      ready = true;
      for (const f of waiting.splice(0)) f();
      showStatus();
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(timer);
      status.close();
      saveNow(done);
    });
  }

  RED.nodes.registerType('fleet-alerts', FleetAlerts as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);

  if (RED.httpAdmin) {
    const perm = RED.auth.needsPermission('fleet-alerts.read');
    // The dialog checks with the runtime's own parser and shows which receivers a sample alert reaches.
    RED.httpAdmin.post('/fleet-alerts/check', perm, (req: Request, res: Response) => {
      const body = req.body as { receivers?: unknown; routing?: unknown; labels?: unknown };
      const r = parseAlertsConfig(body.receivers, body.routing);
      if (!r.ok) { res.json({ ok: false, path: r.path, field: r.field, reason: r.reason }); return; }
      const labels = body.labels && typeof body.labels === 'object' ? Object.fromEntries(Object.entries(body.labels).filter(([, v]) => typeof v === 'string')) as Record<string, string> : null;
      res.json({ ok: true, receivers: labels ? matchRoutes(r.value.tree, labels).map((x) => ({ receiver: x.receiver, route: x.path })) : [] });
    });
    RED.httpAdmin.post('/fleet-alerts/import', perm, (req: Request, res: Response) => {
      const r = importAlertmanagerYaml(String((req.body as { yaml?: unknown }).yaml ?? ''));
      res.json(r);
    });
    RED.httpAdmin.post('/fleet-alerts/export', perm, (req: Request, res: Response) => {
      const body = req.body as { receivers?: string[]; routing?: string };
      try {
        const doc = JSON.parse(body.routing || '{}') as { route: object; inhibit_rules?: []; time_intervals?: [] };
        res.type('text/yaml').send(exportAlertmanagerYaml({ route: doc.route, receivers: body.receivers ?? [], inhibit_rules: doc.inhibit_rules ?? [], time_intervals: doc.time_intervals ?? [] }));
      } catch (err) {
        res.status(400).json({ error: (err as Error).message });
      }
    });
  }
};
