/** Why a message was not decoded. `path` points at the failing field (a JSON pointer) or names `topic`. */
export const REJECT_CODES = [
  'topic',               // not a usable topic string (type, length, wildcard, control character)
  'unknown-topic',       // a well-formed topic that no enabled profile of the contract knows
  'device-id',           // the device id (from topic, payload or msg) breaks the id rules
  'identity-mismatch',   // the payload names another device than the topic
  'empty',               // a zero-length payload: a cleared retained message, never a reading
  'payload-size',        // over the configured byte limit
  'encoding',            // not valid UTF-8, or not JSON data (a function, class instance, getter, cycle...)
  'json',                // not JSON, or JSON that is not an object
  'depth',               // objects and arrays nested deeper than the configured limit
  'reserved-key',        // a `__proto__` key, which would become a prototype
  'schema',              // JSON that breaks the contract's schema (or a time that is no date)
  'unsupported-version', // a contract version this build does not know
  'filtered',            // a device kind this node is configured not to accept
  'console',             // a serial console line that could not be read
  'internal',            // a fault of the decoder itself; the message is refused, the node keeps going
] as const;
export type RejectCode = (typeof REJECT_CODES)[number];

export interface Reject {
  readonly code: RejectCode;
  readonly topic: string;
  readonly path: string;
  readonly reason: string;
  /** The device the topic names, when it names a valid one: health counts bad readings per device. */
  readonly device?: string;
}

/** Thrown through done(err) so Catch nodes see a reject; carries the structured reason. */
export class RejectError extends Error {
  readonly reject: Reject;
  /** An own property: Node-RED copies `code` into the Catch node's msg.error. */
  readonly code: RejectCode;
  constructor(reject: Reject) {
    super(describeReject(reject));
    this.name = 'RejectError';
    this.reject = reject;
    this.code = reject.code;
  }
}

export function describeReject(r: Reject): string {
  const where = r.path ? ` at ${r.path}` : '';
  const topic = r.topic ? ` (topic ${JSON.stringify(r.topic.slice(0, 120))})` : '';
  return `${r.code}${where}: ${r.reason}${topic}`;
}
