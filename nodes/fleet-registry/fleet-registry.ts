/**
 * fleet-registry: the config node that owns the fleet's shared device table and its audit trail.
 * Other nodes reach it with RED.nodes.getNode(config.registry).fleet (nodes/shared/registry-node.ts);
 * fleet-command writes to `.audit` (lib/registry/audit.ts), kept in the node's durable journal.
 */
import { AuditLog, parseAuditCapacity, parseAuditQuery } from '../../lib/registry/audit';
import { parseDeviceQuery, parseRegistryConfig, type RegistryConfig } from '../../lib/registry/config';
import { FleetRegistry, maxDevicesFromEnv } from '../../lib/registry/registry';
import { contextStore } from '../shared/context-store';
import { defineNode } from '../shared/kit';
import type { FleetRegistryNode } from '../shared/registry-node';
import { FLEET_REGISTRY_VERSION, migrations } from './migrations';

type Config = RegistryConfig & { readonly auditMax: number };

export = defineNode<Config>({
  type: 'fleet-registry',
  version: FLEET_REGISTRY_VERSION,
  migrations,
  parse: (def) => {
    const r = parseRegistryConfig(def, maxDevicesFromEnv());
    const a = parseAuditCapacity(def.auditMax);
    return !r.ok ? r : !a.ok ? { ok: false, field: 'auditMax', reason: a.reason } : { ok: true, value: { ...r.value, auditMax: a.value } };
  },
  state: { mode: 'durable' },
  create({ node, config, t, journal, every }) {
    const fleet = new FleetRegistry(config.persist ? contextStore(node, config.store) : null, config);
    // Opened on first use: the journal is open once create() has returned, before any flow node runs.
    let audit: AuditLog | null = null;
    Object.assign(node, { fleet });
    Object.defineProperty(node, 'audit', { get: () => (audit ??= new AuditLog(journal(), config.auditMax)), configurable: true });
    // Results of pushes (one per device answer) are written in one commit a second.
    const flush = () => { try { audit?.flush(); } catch (err) { node.error(t('errors.audit', { message: (err as Error).message })); } };
    every(1000, flush);
    fleet.on('error', (err) => node.error(t('errors.store', { message: err.message })));
    fleet.on('alert', (a) => node.warn(a.summary));
    fleet.ready.then((n) => { if (n > 0) node.log(t('log.loaded', { count: n })); }, () => undefined);
    return { close: () => { flush(); return fleet.close().catch(() => undefined); } };
  },
  // The editor asks relative to its own root, so this works under any httpAdminRoot.
  admin(routes, RED) {
    routes.get('/:id/devices', (req, res) => {
      try {
        const reg = RED.nodes.getNode(String(req.params.id)) as FleetRegistryNode | null;
        if (!reg || reg.type !== 'fleet-registry' || !reg.fleet) {
          res.status(404).json({ error: 'not-deployed', message: RED._('fleet-registry.errors.notDeployed') });
          return;
        }
        const query = parseDeviceQuery(req.query);
        if (!query.ok) { res.status(400).json({ error: 'bad-request', field: query.field, reason: query.reason }); return; }
        const fleet = reg.fleet;
        const devices = fleet.summaries({ query: query.value.q, limit: query.value.limit });
        res.json({ count: fleet.table.size, maxDevices: fleet.maxDevices, refused: fleet.refused, full: fleet.full, devices });
      } catch (err) {
        // Not the caller's fault, but still an answer instead of Express's stack trace page.
        res.status(500).json({ error: 'internal', message: (err as Error).message });
      }
    });
    routes.get('/:id/audit', (req, res) => {
      try {
        const reg = RED.nodes.getNode(String(req.params.id)) as (FleetRegistryNode & { audit?: AuditLog }) | null;
        if (!reg || reg.type !== 'fleet-registry' || !reg.audit) { res.status(404).json({ error: 'not-deployed', message: RED._('fleet-registry.errors.notDeployed') }); return; }
        const query = parseAuditQuery(req.query);
        if (!query.ok) { res.status(400).json({ error: 'bad-request', field: query.field, reason: query.reason }); return; }
        const log = reg.audit;
        res.json({ size: log.size, capacity: log.capacity, lastSeq: log.lastSeq, entries: log.entries(query.value) });
      } catch (err) {
        res.status(500).json({ error: 'internal', message: (err as Error).message });
      }
    });
  },
});
