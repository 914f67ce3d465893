/**
 * fleet-registry: the config node that owns the fleet's shared device table.
 * Other nodes reach it with RED.nodes.getNode(config.registry).fleet.
 */
import type { NodeAPI, NodeDef } from 'node-red';
import type { Request, Response } from 'express';

import { FleetRegistry } from '../../lib/registry/registry';
import { contextStore } from '../shared/context-store';
import type { FleetRegistryNode } from '../shared/registry-node';

interface FleetRegistryDef extends NodeDef {
  store: string;
  flushMs: string | number;
  persist: boolean;
}

const DEFAULT_FLUSH_MS = 1000;

export = function register(RED: NodeAPI): void {
  function FleetRegistryConfig(this: FleetRegistryNode, def: FleetRegistryDef): void {
    RED.nodes.createNode(this, def);
    const flushMs = Number(def.flushMs) > 0 ? Number(def.flushMs) : DEFAULT_FLUSH_MS;
    const persist = def.persist !== false;
    this.fleet = new FleetRegistry(persist ? contextStore(this, def.store) : null, { flushMs });
    this.fleet.on('error', (err) => this.error(RED._('fleet-registry.errors.store', { message: err.message })));
    this.fleet.ready.then(
      (n) => { if (n > 0) this.log(RED._('fleet-registry.log.loaded', { count: n })); },
      () => undefined,
    );
    this.on('close', (_removed: boolean, done: () => void) => {
      this.fleet.close().then(done, done);
    });
  }

  RED.nodes.registerType('fleet-registry', FleetRegistryConfig as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);

  // The editor asks relative to its own root, so this works under any httpAdminRoot.
  if (RED.httpAdmin) {
    RED.httpAdmin.get('/fleet-registry/:id/devices', RED.auth.needsPermission('fleet-registry.read'), (req: Request, res: Response) => {
      const node = RED.nodes.getNode(String(req.params.id)) as FleetRegistryNode | null;
      if (!node || node.type !== 'fleet-registry' || !node.fleet) {
        res.status(404).json({ error: 'not-deployed', message: RED._('fleet-registry.errors.notDeployed') });
        return;
      }
      const query = typeof req.query.q === 'string' ? req.query.q.slice(0, 64) : undefined;
      const limitRaw = Number(req.query.limit);
      const limit = Number.isInteger(limitRaw) && limitRaw > 0 ? Math.min(limitRaw, 5000) : 500;
      const devices = node.fleet.summaries({ query, limit });
      res.json({ count: node.fleet.table.size, devices });
    });
  }
};
