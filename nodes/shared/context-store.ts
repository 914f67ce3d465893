/** Node-RED's context API as the registry's key-value store, so any configured store (file, Redis, ...) serves. */
import type { Node } from 'node-red';

import type { KeyValueStore } from '../../lib/registry/persistence';

type Callback = (err: Error | null, ...values: unknown[]) => void;

interface CallbackContext {
  keys(store: string | undefined, cb: Callback): void;
  get(keys: string[], store: string | undefined, cb: Callback): void;
  set(keys: string[], values: unknown[], store: string | undefined, cb: (err: Error | null) => void): void;
}

export function contextStore(node: Node, storeName: string | undefined): KeyValueStore {
  const ctx = node.context() as unknown as CallbackContext;
  const store = storeName || undefined;
  return {
    keys: () => new Promise((resolve, reject) => ctx.keys(store, (err, keys) => (err ? reject(err) : resolve((keys as string[]) ?? [])))),
    get: (keys) => new Promise((resolve, reject) => ctx.get(keys, store, (err, ...values) => (err ? reject(err) : resolve(values)))),
    set: (keys, values) => new Promise((resolve, reject) => ctx.set(keys, values, store, (err) => (err ? reject(err) : resolve()))),
  };
}
