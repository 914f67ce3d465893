/**
 * The node kit: what every node of this package repeats, written once. An adapter gives its type,
 * its versioned parser and migrations, and a `create` that translates messages to domain calls; the
 * kit reads the saved configuration, shows a bad one and refuses input, gates input until the
 * node's state is restored, and on close releases timers and waits for the store.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import type { Request, Response } from 'express';

import { migrate, type Migration, type SavedDef } from './migrations';
import type { Journal } from '../../lib/store/journal';
import { ContextStateStore, DurableStateStore, stateFile, type OwnedStateStore, type StateMode, type StateStore } from './state-store';
import { ThrottledStatus } from './status';

export type { Migration, SavedDef } from './migrations';
export type { StateStore, StateMode } from './state-store';

export type ConfigResult<C> = { readonly ok: true; readonly value: C } | { readonly ok: false; readonly field: string; readonly reason: string };

/** One message per output (null for none; an array for several on one output). */
export type Outputs = ReadonlyArray<NodeMessage | NodeMessage[] | null>;
export type Send = (msgs: Outputs) => void;

export interface NodeKit<C> {
  readonly RED: NodeAPI;
  readonly node: Node;
  /** The parsed configuration (after migrations). */
  readonly config: C;
  /** The saved configuration after migrations, for fields the parser does not own (registry id, intervals). */
  readonly def: SavedDef;
  /** Throttled badges: `set` at most once a second, `now` at once. */
  readonly status: ThrottledStatus;
  /** Present when the spec asks for state; restored before the first message reaches `input`. */
  readonly state: StateStore;
  /**
   * Durable mode: the journal itself, for a domain store that keeps its own records in it (open from
   * `ready` on). Throws, naming the file and the reason, when it is not open.
   */
  journal(): Journal;
  /** RED._ under this node's catalog: t('status.counts', {...}) reads `<type>.status.counts`. */
  t(key: string, vars?: Record<string, unknown>): string;
  /** Sends outside an input (timers): one entry per output. */
  send(msgs: Outputs): void;
  /** A repeating timer, cleared on close. The callback does not run before the state is restored. */
  every(ms: number, fn: () => void): void;
  /** A one-shot timer, cleared on close. */
  after(ms: number, fn: () => void): void;
  /** Holds input until `p` settles too (e.g. a registry's load); a rejection opens the gate. */
  holdUntil(p: Promise<unknown>): void;
}

export interface NodeHandlers<In> {
  /**
   * One message; `send` is typed per output. Throwing (or rejecting) reports the error with done(err),
   * so a catch node sees it; anything sent before the throw stays sent.
   */
  input?(msg: In, send: Send): void | Promise<void>;
  /**
   * Instead of `input`, for a node on the hot path: the message is complete when the handler calls
   * `done` (with an error for a catch node to see), so no promise or closure is made per message.
   * Throwing before calling `done` reports the error as `input` does; `done` is called once.
   */
  inputThen?(msg: In, send: Send, done: (err?: Error | null) => void): void;
  /** Runs once the state is restored and every held promise settled, before the queued messages. */
  ready?(): void;
  /** Runs on close before the store is flushed. */
  close?(removed: boolean): void | Promise<void>;
}

export interface AdminRoutes {
  /** `GET <httpAdminRoot>/<type><path>` with permission `<type>.<permission>` (read by default). */
  get(path: string, handler: (req: Request, res: Response) => void, permission?: 'read' | 'write'): void;
  post(path: string, handler: (req: Request, res: Response) => void, permission?: 'read' | 'write'): void;
  /**
   * Answers an error raised before the route under `<path>` (a body the admin API's JSON parser refused:
   * not JSON, too large) in the endpoint's own shape, rather than with Express's stack-trace page.
   */
  errors(path: string, handler: (err: unknown, res: Response) => void): void;
}

export interface NodeSpec<C, In> {
  readonly type: string;
  /** The version the editor saves today, and the end of the migration chain. */
  readonly version: number;
  readonly migrations: readonly Migration[];
  /** The versioned parser: saved def (migrated) → configuration, or the field at fault. */
  parse(def: SavedDef, RED: NodeAPI): ConfigResult<C>;
  /** Ask for a state store: context (Node-RED's, optional named store) or durable (a synced journal). */
  readonly state?: { readonly mode: StateMode; store?(def: SavedDef): string | undefined };
  create(kit: NodeKit<C>): NodeHandlers<In>;
  /** Node-RED credentials (kept out of the flow file, in flows_cred.json); read with `node.credentials`. */
  readonly credentials?: Readonly<Record<string, { readonly type: 'text' | 'password' }>>;
  /** Admin endpoints the editor calls; registered once with the type. */
  admin?(routes: AdminRoutes, RED: NodeAPI): void;
}

type Done = (err?: Error) => void;
type NodeConstructor = Parameters<NodeAPI['nodes']['registerType']>[1];

const NO_STATE: StateStore = {
  mode: 'context',
  get: () => undefined,
  keys: () => [],
  set: () => { throw new Error('this node has no state store (spec.state)'); },
  setLater: () => { throw new Error('this node has no state store (spec.state)'); },
  delete: () => { throw new Error('this node has no state store (spec.state)'); },
  commit: () => { throw new Error('this node has no state store (spec.state)'); },
  flush: () => Promise.resolve(),
};

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** Reads a saved def through the migrations and the parser: the one path a deploy and a test both take. */
export function loadConfig<C>(spec: Pick<NodeSpec<C, unknown>, 'version' | 'migrations' | 'parse'>, def: SavedDef, RED: NodeAPI): { def: SavedDef; result: ConfigResult<C> } {
  const m = migrate(def, spec.migrations, spec.version);
  if (!m.ok) return { def, result: { ok: false, field: m.field, reason: m.reason } };
  return { def: m.def, result: spec.parse(m.def, RED) };
}

/** What defineNode returns: Node-RED's register function, carrying its spec (tests load configurations through it). */
export type DefinedNode<C, In> = ((RED: NodeAPI) => void) & { readonly spec: NodeSpec<C, In> };

export function defineNode<C, In extends NodeMessageInFlow = NodeMessageInFlow>(spec: NodeSpec<C, In>): DefinedNode<C, In> {
  return Object.assign(function register(RED: NodeAPI): void {
    const t = (key: string, vars?: Record<string, unknown>): string => RED._(`${spec.type}.${key}`, vars as Record<string, string> | undefined);

    function KitNode(this: Node, nodeDef: NodeDef): void {
      RED.nodes.createNode(this, nodeDef);
      const status = new ThrottledStatus(this);
      const { def, result } = loadConfig(spec, nodeDef as unknown as SavedDef, RED);
      if (!result.ok) {
        const { field, reason } = result;
        this.error(t('errors.config', { field, where: field, reason }));
        status.now({ fill: 'red', shape: 'ring', text: t('status.badConfig', { field, where: field }) });
        this.on('input', (_m: NodeMessageInFlow, _s: unknown, done: Done) => done(new Error(`${spec.type}: ${field}: ${reason}`)));
        return;
      }

      const intervals = new Set<NodeJS.Timeout>();
      const timeouts = new Set<NodeJS.Timeout>();
      const holds: Array<Promise<unknown>> = [];
      let open = false;
      let closed = false;
      const queue: Array<() => void> = [];

      let owned: OwnedStateStore | null = null;
      let durable: DurableStateStore | null = null;
      if (spec.state?.mode === 'durable') owned = durable = new DurableStateStore(stateFile(RED, spec.type, this.id));
      else if (spec.state) owned = new ContextStateStore(this, spec.state.store?.(def), (err) => this.warn(t('errors.store', { message: err.message })));

      const kit: NodeKit<C> = {
        RED, node: this, config: result.value, def, status, state: owned ?? NO_STATE, t,
        journal: () => {
          if (!durable) throw new Error(`${spec.type}: this node has no durable state (spec.state.mode)`);
          return durable.open();
        },
        send: (msgs) => this.send(msgs as Array<NodeMessage | NodeMessage[] | null>),
        every: (ms, fn) => { intervals.add(setInterval(() => { if (open) fn(); }, ms)); },
        after: (ms, fn) => {
          const h = setTimeout(() => { timeouts.delete(h); fn(); }, ms);
          timeouts.add(h);
        },
        holdUntil: (p) => { holds.push(p); },
      };
      const handlers = spec.create(kit);

      const input = handlers.input?.bind(handlers);
      const inputThen = handlers.inputThen?.bind(handlers);
      const run = (msg: In, send: Send, done: Done): void => {
        if (inputThen) {
          // Node-RED's done tests its argument for truth: null completes the message as undefined does.
          try { inputThen(msg, send, done as (err?: Error | null) => void); } catch (err) { done(asError(err)); }
          return;
        }
        if (!input) { done(); return; }
        let r: void | Promise<void>;
        try {
          r = input(msg, send);
        } catch (err) {
          done(asError(err));
          return;
        }
        if (r && typeof r.then === 'function') r.then(() => done(), (err: unknown) => done(asError(err)));
        else done();
      };

      // The adapter's In type is its reading of an incoming message; Node-RED only promises NodeMessageInFlow.
      // A config node (no input handler) listens to nothing.
      if (input || inputThen) {
        this.on('input', (msg, nodeSend, done) => {
          // Node-RED's own send, typed per output: the same function, not a wrapper made per message.
          const send = nodeSend as unknown as Send;
          if (open) run(msg as In, send, done);
          else queue.push(() => run(msg as In, send, done));
        });
      }

      // Restore the store and wait for what create() held, then let the queue through in order.
      // A failed restore is reported and the node starts empty: refusing every message would lose them.
      const restore = owned
        ? owned.restore().catch((err: unknown) => { this.warn(t('errors.restore', { message: asError(err).message })); })
        : Promise.resolve();
      const gate = restore.then(() => Promise.allSettled(holds)).then(() => {
        if (closed) return;
        try { handlers.ready?.(); } catch (err) { this.error(asError(err).message); }
        open = true;
        for (const f of queue.splice(0)) f();
      });

      this.on('close', (removed: boolean, done: () => void) => {
        closed = true;
        for (const h of intervals) clearInterval(h);
        for (const h of timeouts) clearTimeout(h);
        intervals.clear();
        timeouts.clear();
        status.close();
        void gate
          .then(() => handlers.close?.(removed))
          .catch((err: unknown) => this.warn(asError(err).message))
          .then(() => owned?.close(removed))
          .catch((err: unknown) => this.warn(t('errors.store', { message: asError(err).message })))
          .then(() => done());
      });
    }

    if (spec.credentials) RED.nodes.registerType(spec.type, KitNode as unknown as NodeConstructor, { credentials: spec.credentials });
    else RED.nodes.registerType(spec.type, KitNode as unknown as NodeConstructor);

    if (spec.admin && RED.httpAdmin) {
      const admin = RED.httpAdmin;
      const perm = (p: 'read' | 'write' = 'read') => RED.auth.needsPermission(`${spec.type}.${p}`);
      spec.admin({
        get: (p, handler, permission) => { admin.get(`/${spec.type}${p}`, perm(permission), handler); },
        post: (p, handler, permission) => { admin.post(`/${spec.type}${p}`, perm(permission), handler); },
        errors: (p, handler) => {
          admin.use(`/${spec.type}${p}`, (err: unknown, _req: Request, res: Response, next: (e?: unknown) => void) => {
            if (res.headersSent) { next(err); return; }
            handler(err, res);
          });
        },
      }, RED);
    }
  }, { spec });
}

/** A status badge for counts, the shape every node shows: green, yellow or red dot. */
export function dot(fill: 'green' | 'yellow' | 'red' | 'grey', text: string): NodeStatus {
  return { fill, shape: 'dot', text };
}
