/** The shape of a deployed fleet-registry config node, as the nodes that use it see it. */
import type { Node, NodeAPI } from 'node-red';

import type { FleetRegistry } from '../../lib/registry/registry';

export interface FleetRegistryNode extends Node {
  fleet: FleetRegistry;
}

/** The registry a node's config names, or null when none is chosen or it is not deployed. */
export function registryOf(RED: NodeAPI, id: string | undefined): FleetRegistry | null {
  if (!id) return null;
  const node = RED.nodes.getNode(id) as FleetRegistryNode | null;
  return node && node.type === 'fleet-registry' && node.fleet ? node.fleet : null;
}
