/**
 * fleet-alerts' command protocol, read from a message: a delivery confirmation (one of our notifications
 * wired back), `silence`, `unsilence` and `ack`. Reading is separate from applying so each refusal is
 * checked on its own; `applyCommand` then changes the dispatcher and the store.
 */
import type { AlertDispatcher, Silence } from './dispatcher';
import { compileMatcherList, type CompiledMatcher } from './matchers';
import { parseDuration } from './routes';

export type AlertCommand =
  | { readonly kind: 'delivered'; readonly id: string }
  | { readonly kind: 'silence'; readonly silence: Silence }
  | { readonly kind: 'unsilence'; readonly id: string }
  | { readonly kind: 'ack'; readonly by: string | readonly CompiledMatcher[] };

/** null: the message is not a command (an alert, to be read as one). */
export type CommandRead = { readonly ok: true; readonly command: AlertCommand } | { readonly ok: false; readonly reason: string } | null;

export interface CommandMessage { readonly topic?: unknown; readonly payload?: unknown; readonly notification?: unknown; readonly idempotencyKey?: unknown }

const isObject = (x: unknown): x is Readonly<Record<string, unknown>> => x !== null && typeof x === 'object';
const refuse = (reason: string): CommandRead => ({ ok: false, reason: `fleet-alerts: ${reason}` });

/** A silence's or an ack's matchers: a non-empty list such as ["site=north"], or why not. */
export function matchersFrom(list: unknown): CompiledMatcher[] | string {
  const m = compileMatcherList(list);
  if (!m.ok) return m.reason;
  return m.value.length ? m.value : 'matchers must be a non-empty list such as ["site=north"]';
}

/** Reads a command; `nextId` names a silence that brings no id of its own. */
export function readCommand(msg: CommandMessage, now: number, nextId: () => string): CommandRead {
  // A receiver's confirmation: one of our notification messages come back (a `complete` node on the
  // e-mail or http request node, wired back), known by its key in two places.
  const n = msg.notification;
  if (isObject(n) && typeof n.id === 'string' && msg.idempotencyKey === n.id) return { ok: true, command: { kind: 'delivered', id: n.id } };
  const p: Readonly<Record<string, unknown>> | undefined = isObject(msg.payload) ? msg.payload : undefined;
  switch (msg.topic) {
    case 'silence': {
      const matchers = matchersFrom(p?.matchers);
      if (typeof matchers === 'string') return refuse(`silence: ${matchers}`);
      const forMs = typeof p?.duration === 'string' ? parseDuration(p.duration) : null;
      const endsAt = typeof p?.endsAt === 'string' ? Date.parse(p.endsAt) : forMs !== null ? now + forMs : NaN;
      if (!Number.isFinite(endsAt) || endsAt <= now) return refuse('silence: give a duration such as "2h" or a future endsAt');
      const id = typeof p?.id === 'string' && p.id.length <= 200 ? p.id : nextId();
      const comment = typeof p?.comment === 'string' ? p.comment.slice(0, 2000) : undefined;
      const createdBy = typeof p?.createdBy === 'string' ? p.createdBy.slice(0, 200) : undefined;
      return { ok: true, command: { kind: 'silence', silence: { id, matchers, endsAt, comment, createdBy } } };
    }
    case 'unsilence':
      return typeof p?.id === 'string' ? { ok: true, command: { kind: 'unsilence', id: p.id } } : refuse(`unsilence: no silence ${JSON.stringify(p?.id)}`);
    case 'ack': {
      if (typeof p?.fingerprint === 'string') return { ok: true, command: { kind: 'ack', by: p.fingerprint } };
      const by = matchersFrom(p?.matchers);
      return typeof by === 'string' ? refuse(`ack: give a fingerprint or matchers (${by})`) : { ok: true, command: { kind: 'ack', by } };
    }
    default:
      return null;
  }
}

/** Applies a command; returns the refusal, if any (an unknown silence id). */
export function applyCommand(c: AlertCommand, dispatcher: AlertDispatcher, confirm: (id: string) => void): Error | undefined {
  switch (c.kind) {
    case 'delivered': confirm(c.id); return undefined;
    case 'silence': dispatcher.addSilence(c.silence); return undefined;
    case 'unsilence': return dispatcher.expireSilence(c.id) ? undefined : new Error(`fleet-alerts: unsilence: no silence ${JSON.stringify(c.id)}`);
    case 'ack': dispatcher.acknowledge(c.by); return undefined;
  }
}
