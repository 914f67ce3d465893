/**
 * fleet-alerts: alerts in; one output per named receiver, carrying grouped notifications.
 * Commands by message: silence, unsilence, ack. The dispatching, the journal and the command protocol
 * are lib/alerts/ (controller.ts, commands.ts); the admin endpoints' checks are lib/alerts/admin.ts.
 */
import type { NodeMessageInFlow } from 'node-red';
import type { Request, Response } from 'express';

import { answerRequest, checkRequest, exportRequest, importRequest, type AdminAnswer } from '../../lib/alerts/admin';
import { parseAlertsConfig, type AlertsConfig } from '../../lib/alerts/config';
import { AlertsController, type AlertInputMessage } from '../../lib/alerts/controller';
import { defineNode } from '../shared/kit';
import { FLEET_ALERTS_VERSION, migrations } from './migrations';

interface LegacyContext { get(key: string, cb: (err: Error | null, value?: unknown) => void): void; set(key: string, value: unknown, cb: () => void): void }

export = defineNode<AlertsConfig, NodeMessageInFlow & AlertInputMessage>({
  type: 'fleet-alerts',
  version: FLEET_ALERTS_VERSION,
  migrations,
  parse(def) {
    const r = parseAlertsConfig(def.receivers, def.routing);
    return r.ok ? r : { ok: false, field: r.field ? `${r.path} ${r.field}` : r.path, reason: r.reason };
  },
  state: { mode: 'durable' },
  create({ node, config, status, t, send, every, after, holdUntil, journal }) {
    const ctl = new AlertsController(config, (message) => node.error(t('errors.store', { message })));
    let muted = '';
    const showStatus = (): void => status.set(() => {
      const c = ctl.status(Date.now());
      muted = c.muted;
      return { fill: c.active > 0 ? 'yellow' : 'green', shape: c.muted ? 'ring' : 'dot', text: t(c.muted ? 'status.countsMuted' : 'status.counts', c) };
    });
    // Earlier versions kept a snapshot in the node's context: read it before the first message.
    const ctx = node.context() as unknown as LegacyContext;
    let legacy: unknown;
    holdUntil(new Promise<void>((resolve) => ctx.get('state', (err, v) => { if (!err) legacy = v; resolve(); })));
    // Quiet hours begin and end without a message: the badge follows them.
    every(1000, () => { const out = ctl.tick(Date.now()); for (const o of out) send(o); if (out.length || ctl.status(Date.now()).muted !== muted) showStatus(); });
    return {
      ready() {
        try {
          const j = journal();
          const opened = ctl.attach(j, legacy, Date.now());
          if (opened.damaged > 0) node.warn(t('errors.damaged', { count: opened.damaged, file: j.file }));
          if (opened.migrated) ctx.set('state', undefined, () => undefined);
          showStatus();
        } catch (err) {
          ctl.broken = err as Error;
          node.error(t('errors.store', { message: ctl.broken.message }));
          status.now({ fill: 'red', shape: 'ring', text: t('status.noStore') });
        }
      },
      // Done once what the message changed is durable: one commit for the inputs of 20 ms.
      input(msg) {
        const err = ctl.handle(msg, Date.now());
        if (err) throw err;
        showStatus();
        return ctl.durable(() => after(20, () => ctl.commitInputs(Date.now())));
      },
      close() { ctl.stop(Date.now()); },
    };
  },
  // These endpoints parse what the user sends (routing documents, YAML): writers only, and bounded.
  admin(routes) {
    const endpoint = (handler: Parameters<typeof answerRequest>[2]) => (req: Request, res: Response): void => {
      const a: AdminAnswer = answerRequest(req.headers['content-length'], req.body, handler);
      if (a.yaml !== undefined) res.status(a.status).type('text/yaml').send(a.yaml); else res.status(a.status).json(a.json);
    };
    for (const [path, handler] of [['/check', checkRequest], ['/import', importRequest], ['/export', exportRequest]] as const) routes.post(path, endpoint(handler), 'write');
  },
});
