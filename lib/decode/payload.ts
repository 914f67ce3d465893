/** Turns whatever `mqtt in` or a serial port hands us into text or an object, within a byte limit. */
import { isUtf8 } from 'node:buffer';
import { types } from 'node:util';

export type RawPayload =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: true; readonly object: object }
  | { readonly ok: false; readonly code: 'payload-size' | 'encoding' | 'empty'; readonly reason: string };

const EMPTY = 'payload is empty (a zero-length message clears a retained message; it is no reading and no sign of life)';

export function readRaw(payload: unknown, maxBytes: number): RawPayload {
  // Checked first: every other test below could run a Proxy's traps.
  if (types.isProxy(payload)) return { ok: false, code: 'encoding', reason: 'payload is a Proxy, not JSON data' };
  if (typeof payload === 'string') {
    if (payload.length === 0) return { ok: false, code: 'empty', reason: EMPTY };
    // A char is at least one UTF-8 byte and at most three (UTF-16 units), so most strings skip the byte count.
    if (payload.length > maxBytes || (payload.length * 3 > maxBytes && Buffer.byteLength(payload) > maxBytes)) {
      return { ok: false, code: 'payload-size', reason: `payload is larger than ${maxBytes} bytes` };
    }
    return { ok: true, text: payload };
  }
  if (Buffer.isBuffer(payload) || types.isUint8Array(payload)) {
    const u8 = payload as Uint8Array;
    const buf = Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
    if (buf.byteLength === 0) return { ok: false, code: 'empty', reason: EMPTY };
    if (buf.byteLength > maxBytes) {
      return { ok: false, code: 'payload-size', reason: `payload is ${buf.byteLength} bytes, over the ${maxBytes}-byte limit` };
    }
    // Decoding writes U+FFFD for every sequence that is not UTF-8: text without one came from valid
    // UTF-8, and only text with one (a real U+FFFD, or a bad sequence) needs the second pass.
    const text = buf.toString('utf8');
    if (text.indexOf('\uFFFD') >= 0 && !isUtf8(buf)) return { ok: false, code: 'encoding', reason: 'payload is not valid UTF-8' };
    return { ok: true, text };
  }
  if (payload !== null && typeof payload === 'object' && !Array.isArray(payload)) {
    return { ok: true, object: payload };
  }
  const what = payload === null ? 'null' : Array.isArray(payload) ? 'an array' : typeof payload;
  return { ok: false, code: 'encoding', reason: `payload must be a Buffer, a string or an object, got ${what}` };
}

export type JsonObject =
  | { readonly ok: true; readonly value: Record<string, unknown> }
  | { readonly ok: false; readonly reason: string };

export function parseJsonObject(text: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `payload is not valid JSON: ${(err as Error).message}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: `payload must be a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}` };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

