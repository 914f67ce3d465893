import type { Node, NodeMessage } from 'node-red';

export type Msg = NodeMessage & Record<string, unknown>;

/** Everything a test-helper node receives, in order. */
export function collect(node: Node): Msg[] {
  const got: Msg[] = [];
  node.on('input', (m: Msg) => got.push(m));
  return got;
}
