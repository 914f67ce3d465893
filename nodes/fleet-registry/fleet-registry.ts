/**
 * fleet-registry: the config node that owns the fleet's shared device table.
 * Other nodes reach it with RED.nodes.getNode(config.registry).fleet.
 */
import type { NodeAPI, NodeDef } from 'node-red';
import type { Request, Response } from 'express';

import { FleetRegistry, maxDevicesFromEnv } from '../../lib/registry/registry';
import { contextStore } from '../shared/context-store';
import type { FleetRegistryNode } from '../shared/registry-node';

interface FleetRegistryDef extends NodeDef {
  store: string;
  flushMs: string | number;
  persist: boolean;
  maxDevices?: string | number;
}

const DEFAULT_FLUSH_MS = 1000;
const MAX_LIMIT = 5000;
const MAX_QUERY = 64;

/** The node's cap when set to a positive whole number, else FLEET_MAX_DEVICES, else 10,000. */
function maxDevicesOf(def: FleetRegistryDef): number {
  const v = def.maxDevices === '' || def.maxDevices === undefined ? NaN : Number(def.maxDevices);
  return Number.isInteger(v) && v > 0 ? v : maxDevicesFromEnv();
}

type Query = { ok: true; q: string | undefined; limit: number } | { ok: false; field: string; reason: string };

/** The device list's query string, checked: a bad value is a 400 naming the parameter. */
function parseQuery(query: Request['query']): Query {
  const q = query.q;
  if (q !== undefined && typeof q !== 'string') return { ok: false, field: 'q', reason: 'must be given once, as text' };
  if (typeof q === 'string' && q.length > MAX_QUERY) return { ok: false, field: 'q', reason: `must be at most ${MAX_QUERY} characters` };
  const l = query.limit;
  if (l === undefined || l === '') return { ok: true, q, limit: 500 };
  if (typeof l !== 'string' || !/^\d{1,7}$/.test(l) || Number(l) < 1) return { ok: false, field: 'limit', reason: `must be a whole number from 1 to ${MAX_LIMIT}` };
  return { ok: true, q, limit: Math.min(Number(l), MAX_LIMIT) };
}

export = function register(RED: NodeAPI): void {
  function FleetRegistryConfig(this: FleetRegistryNode, def: FleetRegistryDef): void {
    RED.nodes.createNode(this, def);
    const flushMs = Number(def.flushMs) > 0 ? Number(def.flushMs) : DEFAULT_FLUSH_MS;
    const persist = def.persist !== false;
    this.fleet = new FleetRegistry(persist ? contextStore(this, def.store) : null, { flushMs, maxDevices: maxDevicesOf(def), name: def.name || def.id });
    this.fleet.on('error', (err) => this.error(RED._('fleet-registry.errors.store', { message: err.message })));
    this.fleet.on('alert', (a) => this.warn(a.summary));
    this.fleet.ready.then(
      (n) => { if (n > 0) this.log(RED._('fleet-registry.log.loaded', { count: n })); },
      () => undefined,
    );
    this.on('close', (_removed: boolean, done: () => void) => {
      this.fleet.close().then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('fleet-registry', FleetRegistryConfig as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);

  // The editor asks relative to its own root, so this works under any httpAdminRoot.
  if (RED.httpAdmin) {
    RED.httpAdmin.get('/fleet-registry/:id/devices', RED.auth.needsPermission('fleet-registry.read'), (req: Request, res: Response) => {
      try {
        const node = RED.nodes.getNode(String(req.params.id)) as FleetRegistryNode | null;
        if (!node || node.type !== 'fleet-registry' || !node.fleet) {
          res.status(404).json({ error: 'not-deployed', message: RED._('fleet-registry.errors.notDeployed') });
          return;
        }
        const query = parseQuery(req.query);
        if (!query.ok) {
          res.status(400).json({ error: 'bad-request', field: query.field, reason: query.reason });
          return;
        }
        const fleet = node.fleet;
        const devices = fleet.summaries({ query: query.q, limit: query.limit });
        res.json({ count: fleet.table.size, maxDevices: fleet.maxDevices, refused: fleet.refused, full: fleet.full, devices });
      } catch (err) {
        // Not the caller's fault, but still an answer instead of Express's stack trace page.
        res.status(500).json({ error: 'internal', message: (err as Error).message });
      }
    });
  }
};
