/**
 * fleet-health: decoded messages in; output 1 state changes, output 2 alerts, output 3 fleet summary.
 * The scoring, the journal and its group commit, the sweep, coalescing under overload and the messages
 * are lib/health/controller.ts.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

import type { NodeMessageInFlow } from 'node-red';

import type { FleetAlert } from '../../lib/alert-shape';
import { defaultHealthConfig } from '../../lib/health/config';
import { bodyErrorAnswer, HealthController, parseHealthNodeConfig, validateScoringRequest, alertMessage, type HealthInputMessage, type HealthNodeConfig } from '../../lib/health/controller';
import { maxDevicesFromEnv } from '../../lib/registry/registry';
import { defineNode } from '../shared/kit';
import { registryOf } from '../shared/registry-node';
import { FLEET_HEALTH_VERSION, migrations } from './migrations';

/** Group commit of last-seen and counters: after a SIGKILL, last-seen is at most this much older. Also the lag sample's period. */
const COMMIT_MS = 1000;
/** Resolution of the event-loop delay histogram behind the lag (ms). */
const LOOP_RESOLUTION_MS = 20;

export = defineNode<HealthNodeConfig, NodeMessageInFlow & HealthInputMessage>({
  type: 'fleet-health',
  version: FLEET_HEALTH_VERSION,
  migrations,
  parse: (def) => parseHealthNodeConfig(def),
  state: { mode: 'durable' },
  create({ RED, node, config, def, status, t, send, every, holdUntil, journal }) {
    const fleet = registryOf(RED, typeof def.registry === 'string' ? def.registry : undefined);
    // The badge is built at most once a second (ThrottledStatus) and asked for once per flush, not per message.
    const showCounts = (): void => status.set(() => {
      const s = ctl.status();
      const text = t('status.counts', s.counts);
      return { fill: s.fill, shape: s.shape, text: s.refused > 0 ? `${text} · ${t('status.refused', { count: s.refused })}` : text };
    });
    // Without a registry the tracker itself is the table a publisher could grow: the same cap applies.
    const ctl = new HealthController(config.scoring, fleet, maxDevicesFromEnv(), (e) => {
      if (e.failing) node.error(t('errors.journal', { file: e.file, message: e.message })); else node.log(t('log.journalBack'));
    }, { overload: config.overload, name: typeof def.name === 'string' && def.name ? def.name : node.id, onFlushed: showCounts });
    const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    loop.enable();
    // The registry's own alert (RegistryFull) goes out with the health alerts.
    const onRegistryAlert = (a: FleetAlert): void => { send([null, alertMessage(a), null]); showCounts(); };
    fleet?.on('alert', onRegistryAlert);
    // Messages wait for the registry too: retained births replayed at start must not hide persisted records.
    if (fleet) holdUntil(fleet.ready);
    let lastTick = Date.now();
    every(COMMIT_MS, () => {
      // The histogram's max is its timer's longest interval since the reset, its resolution included (it
      // skips the first interval after a reset: this timer's own lateness covers that).
      const now = Date.now();
      const stall = Math.max(loop.max / 1e6 - LOOP_RESOLUTION_MS, now - lastTick - COMMIT_MS, 0);
      lastTick = now;
      loop.reset();
      const out = ctl.tick(now, Number.isFinite(stall) ? stall : 0);
      if (out) send(out);
    });
    every(config.sweepMs, () => ctl.sweep(Date.now(), (out) => { send(out); showCounts(); }, (next) => setImmediate(next), (err) => node.error(err)));
    if (config.summaryMs) every(config.summaryMs, () => send([null, null, ctl.summary(Date.now())]));
    return {
      ready() {
        try { const j = journal(); const n = ctl.attach(j); if (n > 0) node.log(t('log.restored', { count: n, file: j.file })); } catch (err) { node.error((err as Error).message); }
        try { ctl.reconcile(); } catch { /* a registry that failed to load has nothing to reconcile */ }
        showCounts();
      },
      // Scored with the rest of this turn's inputs on the next turn, after one journal commit for all of them.
      inputThen(msg, out, done) { ctl.enqueueThen(msg, Date.now(), out, done); },
      close() { loop.disable(); fleet?.off('alert', onRegistryAlert); ctl.close(); },
    };
  },
  // The dialog builds its factor table from the defaults and checks an edit with the runtime's own parser.
  admin(routes) {
    routes.get('/defaults', (_req, res) => { res.json(defaultHealthConfig()); });
    routes.post('/validate', (req, res) => { const a = validateScoringRequest(req.headers['content-length'], req.body); res.status(a.status).json(a.body); });
    routes.errors('/validate', (err, res) => { const a = bodyErrorAnswer(err); res.status(a.status).json(a.body); });
  },
});
