/** The node kit, through a small node defined with it and run in Node-RED by the test helper. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import helper from 'node-red-node-test-helper';
import type { Node, NodeMessage } from 'node-red';

import { defineNode, type ConfigResult, type StateMode } from '../../nodes/shared/kit';
import type { Migration } from '../../nodes/shared/migrations';
import { Journal } from '../../lib/store/journal';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js') as (red: unknown) => void;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const completeNode = require('@node-red/nodes/core/common/24-complete.js') as (red: unknown) => void;

helper.init(require.resolve('node-red'));

type Msg = NodeMessage & Record<string, unknown>;

function next(node: Node, timeoutMs = 2000): Promise<Msg> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no message at ${node.id} within ${timeoutMs} ms`)), timeoutMs);
    node.once('input', (msg: Msg) => { clearTimeout(t); resolve(msg); });
  });
}

function collectN(node: Node, n: number, timeoutMs = 3000): Promise<Msg[]> {
  const got: Msg[] = [];
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${got.length} of ${n} messages at ${node.id}`)), timeoutMs);
    node.on('input', (msg: Msg) => { got.push(msg); if (got.length === n) { clearTimeout(t); resolve(got); } });
  });
}

interface CounterConfig { step: number }

// v0 saved `increment`; v1 calls it `step`.
const migrations: Migration[] = [{ from: 0, to: 1, migrate: ({ increment, ...rest }) => ({ ...rest, step: increment ?? 1 }) }];
const parse = (def: Readonly<Record<string, unknown>>): ConfigResult<CounterConfig> => {
  const step = Number(def.step);
  return Number.isInteger(step) && step > 0 ? { ok: true, value: { step } } : { ok: false, field: 'step', reason: 'must be a whole number above 0' };
};

let restoreDelay = 0;
let timerRuns = 0;
let closedWith: boolean | null = null;

/** A counter whose total is kept in the kit's state store; `restoreDelay` holds the gate open. */
function counterNode(type: string, mode: StateMode) {
  return defineNode<CounterConfig>({
    type,
    version: 1,
    migrations,
    parse,
    state: { mode },
    create({ config, state, holdUntil, every }) {
      holdUntil(new Promise((r) => setTimeout(r, restoreDelay)));
      let total = 0;
      every(20, () => { timerRuns++; });
      return {
        ready() { total = Number(state.get('total') ?? 0); },
        input(msg, send) {
          if (msg.payload === 'boom') throw new Error('counter: boom');
          total += config.step;
          state.set('total', total);
          send([{ payload: total, seen: msg.payload } as NodeMessage]);
        },
        close(removed) { closedWith = removed; },
      };
    },
  });
}

/** A node completing each message by a callback, a turn later (the hot path's form, inputThen). */
const laterNode = defineNode<CounterConfig>({
  type: 'kit-later',
  version: 1,
  migrations,
  parse,
  create() {
    return {
      inputThen(msg, send, done) {
        if (msg.payload === 'throw') throw new Error('later: thrown');
        setImmediate(() => {
          if (msg.payload === 'boom') { done(new Error('later: boom')); return; }
          send([{ payload: `sent ${String(msg.payload)}` } as NodeMessage]);
          done(null);
        });
      },
    };
  },
});

const contextCounter = counterNode('kit-counter', 'context');
const durableCounter = counterNode('kit-durable', 'durable');

const flow = (type: string, props: Record<string, unknown>) => [
  { id: 'f1', type: 'tab', label: 'kit' },
  { id: 'n1', type, z: 'f1', wires: [['out']], ...props },
  { id: 'out', type: 'helper', z: 'f1' },
  { id: 'catcher', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
  { id: 'caught', type: 'helper', z: 'f1' },
];

describe('node kit (defineNode)', function () {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-state-'));
  before(() => { process.env.FLEET_STATE_DIR = stateDir; });
  after(() => { delete process.env.FLEET_STATE_DIR; fs.rmSync(stateDir, { recursive: true, force: true }); });
  afterEach(async () => { restoreDelay = 0; await helper.unload(); });

  it('migrates a def saved without configVersion before parsing it', async () => {
    await helper.load([contextCounter], flow('kit-counter', { increment: 5 }));
    const got = next(helper.getNode('out'));
    helper.getNode('n1').receive({ payload: 'a' } as never);
    assert.equal((await got).payload, 5);
  });

  it('refuses input with a catchable error naming the field, and shows the red ring', async () => {
    await helper.load([contextCounter, catchNode], flow('kit-counter', { step: 0, configVersion: 1 }));
    const n = helper.getNode('n1');
    const caught = next(helper.getNode('caught'));
    n.receive({ payload: 'a' } as never);
    const msg = await caught;
    assert.match(String((msg.error as { message: string }).message), /kit-counter: step: must be a whole number above 0/);
  });

  it('refuses a configuration saved by a newer version', async () => {
    await helper.load([contextCounter, catchNode], flow('kit-counter', { step: 1, configVersion: 2 }));
    const caught = next(helper.getNode('caught'));
    helper.getNode('n1').receive({ payload: 'a' } as never);
    assert.match(String(((await caught).error as { message: string }).message), /configVersion: configuration version 2 is newer/);
  });

  it('reports a throw from input with done(err) and keeps working', async () => {
    await helper.load([contextCounter, catchNode], flow('kit-counter', { step: 1, configVersion: 1 }));
    const n = helper.getNode('n1');
    const caught = next(helper.getNode('caught'));
    n.receive({ payload: 'boom' } as never);
    assert.match(String(((await caught).error as { message: string }).message), /counter: boom/);
    const got = next(helper.getNode('out'));
    n.receive({ payload: 'a' } as never);
    assert.equal((await got).payload, 1);
  });

  it('inputThen: a message completes when the handler calls done; an error passed or thrown reaches a catch node, and the node keeps working', async () => {
    await helper.load([laterNode, catchNode, completeNode], [
      ...flow('kit-later', { step: 1, configVersion: 1 }),
      { id: 'completer', type: 'complete', z: 'f1', scope: ['n1'], uncaught: false, wires: [['completed']] },
      { id: 'completed', type: 'helper', z: 'f1' },
    ] as never);
    const n = helper.getNode('n1');
    const caught = collectN(helper.getNode('caught'), 2);
    const sent = collectN(helper.getNode('out'), 1);
    const completed = collectN(helper.getNode('completed'), 1);
    n.receive({ payload: 'boom' } as never);
    n.receive({ payload: 'throw' } as never);
    n.receive({ payload: 'a' } as never);
    const errors = (await caught).map((m) => String((m.error as { message: string }).message).replace(/^Error: /, '')).sort();
    assert.deepEqual(errors, ['later: boom', 'later: thrown']);
    assert.equal((await sent)[0].payload, 'sent a');
    assert.equal((await completed)[0].payload, 'a', 'only the message that went through is complete');
  });

  it('holds messages until the state is restored, then lets them through in order', async () => {
    restoreDelay = 300;
    await helper.load([contextCounter], flow('kit-counter', { step: 1, configVersion: 1 }));
    const n = helper.getNode('n1');
    const all = collectN(helper.getNode('out'), 5);
    for (const p of ['a', 'b', 'c', 'd', 'e']) n.receive({ payload: p } as never);
    const msgs = await all;
    assert.deepEqual(msgs.map((m) => m.seen), ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(msgs.map((m) => m.payload), [1, 2, 3, 4, 5]);
  });

  it('context mode: writes the state to the node\'s context within the flush delay, after a burst', async () => {
    await helper.load([contextCounter], flow('kit-counter', { step: 2, configVersion: 1 }));
    const n = helper.getNode('n1');
    const all = collectN(helper.getNode('out'), 3);
    for (const p of ['a', 'b', 'c']) n.receive({ payload: p } as never);
    await all;
    assert.equal(n.context().get('total'), undefined, 'written before the flush delay');
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(n.context().get('total'), 6);
  });

  it('durable mode: the state is in <FLEET_STATE_DIR>/<type>-<id>.jsonl when input returns', async () => {
    await helper.load([durableCounter], flow('kit-durable', { step: 3, configVersion: 1 }));
    const got = next(helper.getNode('out'));
    helper.getNode('n1').receive({ payload: 'a' } as never);
    await got;
    const file = path.join(stateDir, 'kit-durable-n1.jsonl');
    // Read by a second journal, as a process restarted after a SIGKILL would.
    const j = Journal.open(file);
    assert.equal(j.get('total'), 3);
    j.close();
    await helper.unload();
    await helper.load([durableCounter], flow('kit-durable', { step: 3, configVersion: 1 }));
    const again = next(helper.getNode('out'));
    helper.getNode('n1').receive({ payload: 'b' } as never);
    assert.equal((await again).payload, 6);
  });

  it('clears its timers and calls the adapter\'s close', async () => {
    closedWith = null;
    await helper.load([contextCounter], flow('kit-counter', { step: 1, configVersion: 1 }));
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(timerRuns > 0, 'the timer ran');
    await helper.unload();
    assert.notEqual(closedWith, null, "close ran");
    const after = timerRuns;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(timerRuns, after, 'a timer ran after close');
  });
});
