/** The kit's state stores: batched context writes in order, and the durable journal's file location. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Node, NodeAPI } from 'node-red';

import { ContextStateStore, DurableStateStore, stateFile } from '../../nodes/shared/state-store';

type Cb = (err: Error | null, ...values: unknown[]) => void;

/** Node-RED's callback context API over a Map, with each write recorded and answered after `delayMs`. */
function fakeNode(initial: Record<string, unknown> = {}, delayMs = 0) {
  const data = new Map(Object.entries(initial));
  const writes: Array<Record<string, unknown>> = [];
  const ctx = {
    keys: (_s: unknown, cb: Cb) => cb(null, [...data.keys()]),
    get: (keys: string[], _s: unknown, cb: Cb) => cb(null, ...keys.map((k) => data.get(k))),
    set: (keys: string[], values: unknown[], _s: unknown, cb: (e: Error | null) => void) => {
      setTimeout(() => {
        writes.push(Object.fromEntries(keys.map((k, i) => [k, values[i]])));
        keys.forEach((k, i) => (values[i] === undefined ? data.delete(k) : data.set(k, values[i])));
        cb(null);
      }, delayMs);
    },
  };
  return { node: { context: () => ctx } as unknown as Node, data, writes };
}

describe('kit state stores', () => {
  it('context: restores every key, then batches a burst of changes into one write', async () => {
    const { node, writes, data } = fakeNode({ a: 1, b: { x: 2 } });
    const store = new ContextStateStore(node, undefined, (e) => { throw e; }, 20);
    await store.restore();
    assert.deepEqual(store.keys().sort(), ['a', 'b']);
    assert.deepEqual(store.get('b'), { x: 2 });
    store.set('a', 2);
    store.set('a', 3);
    store.delete('b');
    store.commit([['c', 'x'], ['d', 4]]);
    assert.equal(store.get('a'), 3, 'a read sees the change at once');
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(writes, [{ a: 3, b: undefined, c: 'x', d: 4 }]);
    assert.deepEqual(Object.fromEntries(data), { a: 3, c: 'x', d: 4 });
  });

  it('context: setLater produces its value once per flush, at write time', async () => {
    const { node, writes } = fakeNode();
    const store = new ContextStateStore(node, undefined, (e) => { throw e; }, 1000);
    let calls = 0;
    let value = 0;
    for (let i = 0; i < 100; i++) { value = i; store.setLater('snap', () => { calls++; return { value }; }); }
    await store.flush();
    assert.equal(calls, 1);
    assert.deepEqual(writes, [{ snap: { value: 99 } }]);
    await store.close();
    assert.equal(writes.length, 1, 'nothing pending, nothing written');
  });

  it('context: a later snapshot never lands before an earlier one', async () => {
    const { node, writes, data } = fakeNode({}, 15);
    const store = new ContextStateStore(node, undefined, (e) => { throw e; }, 1000);
    store.set('k', 1);
    const first = store.flush();
    store.set('k', 2);
    await Promise.all([first, store.flush()]);
    assert.deepEqual(writes, [{ k: 1 }, { k: 2 }]);
    assert.equal(data.get('k'), 2);
  });

  it('context: a failed write is reported, not thrown into the message path', async () => {
    const node = { context: () => ({ keys: (_s: unknown, cb: Cb) => cb(null, []), get: () => undefined, set: (_k: unknown, _v: unknown, _s: unknown, cb: (e: Error) => void) => cb(new Error('disk full')) }) } as unknown as Node;
    const errors: string[] = [];
    const store = new ContextStateStore(node, undefined, (e) => errors.push(e.message), 1000);
    store.set('k', 1);
    await store.flush();
    assert.deepEqual(errors, ['disk full']);
  });

  it('durable: each commit is on disk when it returns, and a second store reads it back', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-durable-'));
    const file = path.join(dir, 'x.jsonl');
    const a = new DurableStateStore(file);
    await a.restore();
    a.commit([['one', 1], ['two', { n: 2 }]]);
    a.delete('one');
    const b = new DurableStateStore(file);
    await b.restore();
    assert.deepEqual(b.keys(), ['two']);
    assert.deepEqual(b.get('two'), { n: 2 });
    await a.close();
    await b.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('durable: the file is <userDir>/fleet-state/<type>-<id>.jsonl, FLEET_STATE_DIR overrides, ids are made safe', () => {
    const saved = process.env.FLEET_STATE_DIR;
    try {
      delete process.env.FLEET_STATE_DIR;
      const RED = { settings: { userDir: '/data/red' } } as unknown as NodeAPI;
      assert.equal(stateFile(RED, 'fleet-alerts', 'a1b2'), path.join('/data/red', 'fleet-state', 'fleet-alerts-a1b2.jsonl'));
      assert.equal(path.basename(stateFile(RED, 'fleet-alerts', '../x y')), 'fleet-alerts-.._x_y.jsonl');
      const noUserDir = stateFile({ settings: {} } as unknown as NodeAPI, 't', 'n');
      assert.ok(noUserDir.startsWith(os.tmpdir()), noUserDir);
      process.env.FLEET_STATE_DIR = '/srv/state';
      assert.equal(stateFile(RED, 't', 'n'), path.join('/srv/state', 't-n.jsonl'));
    } finally {
      if (saved === undefined) delete process.env.FLEET_STATE_DIR; else process.env.FLEET_STATE_DIR = saved;
    }
  });
});
